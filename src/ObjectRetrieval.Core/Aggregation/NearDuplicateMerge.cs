using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// Variable K: wraps a strategy and merges its vectors while the most similar pair has cosine ≥ the threshold
/// (the merged vector is the patch-count-weighted mean, re-normalised), so an image with few distinct regions
/// stores fewer vectors. The final assignment map is recomputed against the merged vectors.
/// </summary>
public sealed class NearDuplicateMerge(IAggregator inner, float threshold) : IAggregator
{
    public string Name => inner.Name;

    public float Threshold => threshold;

    public AggregatedImage Aggregate(string imageId, DenseEmbeddings normalizedPatches)
    {
        AggregatedImage result = inner.Aggregate(imageId, normalizedPatches);
        int d = result.Dimension;
        var vectors = Enumerable.Range(0, result.Count).Select(c => result.Vector(c).ToArray()).ToList();
        var weights = result.Sizes.Select(s => (double)Math.Max(1, s)).ToList();
        bool merged = false;
        while (vectors.Count > 1)
        {
            (int a, int b, float best) = MostSimilarPair(vectors);
            if (best < threshold) break;
            float wa = (float)weights[a], wb = (float)weights[b];
            float[] mean = new float[d];
            TensorPrimitives.MultiplyAdd(vectors[a], wa, mean, mean);
            TensorPrimitives.MultiplyAdd(vectors[b], wb, mean, mean);
            VectorMath.Normalize(mean);
            vectors[a] = mean;
            weights[a] += weights[b];
            vectors.RemoveAt(b);
            weights.RemoveAt(b);
            merged = true;
        }

        if (!merged) return result;
        float[] flat = vectors.SelectMany(v => v).ToArray();
        return PatchAssignment.Finish(normalizedPatches.Patches, normalizedPatches.PatchCount, d, flat, vectors.Count);
    }

    private static (int A, int B, float Cosine) MostSimilarPair(List<float[]> vectors)
    {
        (int, int, float) best = (0, 1, float.NegativeInfinity);
        for (int a = 0; a < vectors.Count; a++)
        {
            for (int b = a + 1; b < vectors.Count; b++)
            {
                float c = TensorPrimitives.Dot(vectors[a], vectors[b]);
                if (c > best.Item3) best = (a, b, c);
            }
        }

        return best;
    }
}
