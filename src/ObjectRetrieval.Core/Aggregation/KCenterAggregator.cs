using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// k-center: K real patch vectors chosen farthest-first, optionally refined (see <see cref="AggregationOptions.RefineThreshold"/>).
/// The first pick is the patch least similar to the global embedding: the most distinctive content of the image,
/// which is where a small object lives. It needs no random draw, so the result depends only on the patches.
/// </summary>
public sealed class KCenterAggregator : IAggregator
{
    private readonly AggregationOptions _options;

    public KCenterAggregator(AggregationOptions options)
    {
        options.Validate();
        _options = options;
    }

    public string Name => "kcenter";

    public AggregatedImage Aggregate(string imageId, DenseEmbeddings normalizedPatches)
    {
        int p = normalizedPatches.PatchCount;
        int d = normalizedPatches.Dimension;
        ReadOnlySpan<float> patches = normalizedPatches.Patches;
        bool[]? eligible = PatchAssignment.Eligible(normalizedPatches, _options);
        int first = LeastLikeGlobal(patches, p, d, normalizedPatches.Global, eligible);
        int k = Math.Min(_options.Clusters, p);
        float[] vectors = new float[k * d];
        List<int> seeds = FarthestFirst.Select(patches, p, d, vectors, 0, k, first, eligible);
        if (_options.RefineThreshold is { } threshold) FarthestFirst.Refine(patches, p, d, vectors, seeds.Count, 0, seeds, threshold);
        return PatchAssignment.Finish(patches, p, d, vectors, seeds.Count);
    }

    private static int LeastLikeGlobal(ReadOnlySpan<float> patches, int p, int d, ReadOnlySpan<float> global, bool[]? eligible)
    {
        int best = 0;
        float lowest = float.PositiveInfinity;
        for (int i = 0; i < p; i++)
        {
            if (eligible is not null && !eligible[i]) continue;
            float s = TensorPrimitives.Dot(patches.Slice(i * d, d), global);
            if (s < lowest)
            {
                lowest = s;
                best = i;
            }
        }

        return best;
    }
}
