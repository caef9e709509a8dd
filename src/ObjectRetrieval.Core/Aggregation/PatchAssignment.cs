using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>Steps every strategy shares: nearest-vector assignment, the outlier guard, and packaging the result.</summary>
internal static class PatchAssignment
{
    /// <summary>Assigns each patch to its most similar vector; returns the summed similarity.</summary>
    public static double Assign(ReadOnlySpan<float> patches, int p, int d, ReadOnlySpan<float> vectors, int k, Span<byte> assignment, Span<float> similarity)
    {
        double objective = 0;
        for (int i = 0; i < p; i++)
        {
            ReadOnlySpan<float> patch = patches.Slice(i * d, d);
            int best = 0;
            float bestSim = float.NegativeInfinity;
            for (int c = 0; c < k; c++)
            {
                float s = TensorPrimitives.Dot(patch, vectors.Slice(c * d, d));
                if (s > bestSim)
                {
                    bestSim = s;
                    best = c;
                }
            }

            assignment[i] = (byte)best;
            similarity[i] = bestSim;
            objective += bestSim;
        }

        return objective;
    }

    /// <summary>Cosine distance clamped at 0, so that float noise on identical vectors counts as identical.</summary>
    public static float CosineDistance(float cosine) => MathF.Max(0f, 1f - cosine - 1e-6f);

    /// <summary>
    /// Which patches may be selected: all of them, unless the guard is on and the encoder kept raw norms, in which
    /// case patches whose norm lies far above the median (ViT artefact tokens) are left out. Null means all.
    /// </summary>
    public static bool[]? Eligible(DenseEmbeddings patches, AggregationOptions options)
    {
        if (!options.ExcludeNormOutliers || patches.RawNorms is not { } norms || norms.Length < 4) return null;
        float[] sorted = (float[])norms.Clone();
        Array.Sort(sorted);
        float median = sorted[sorted.Length / 2];
        float[] deviations = sorted.Select(n => MathF.Abs(n - median)).ToArray();
        Array.Sort(deviations);
        double spread = Math.Max(1.4826 * deviations[deviations.Length / 2], 1e-6 * Math.Max(median, 1e-6f));
        double limit = median + options.NormOutlierDeviations * spread;
        bool[] eligible = norms.Select(n => n <= limit).ToArray();
        return eligible.All(e => e) ? null : eligible;
    }

    /// <summary>Final assignment against the chosen vectors and the record every strategy returns.</summary>
    public static AggregatedImage Finish(ReadOnlySpan<float> patches, int p, int d, float[] vectors, int k)
    {
        byte[] assignment = new byte[p];
        float[] similarity = new float[p];
        Assign(patches, p, d, vectors, k, assignment, similarity);
        int[] sizes = new int[k];
        foreach (byte a in assignment) sizes[a]++;
        return new AggregatedImage(vectors.Length == k * d ? vectors : vectors[..(k * d)], k, d, sizes, assignment);
    }
}
