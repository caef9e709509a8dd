using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Tests;

/// <summary>Small helpers that build patch sets with a known structure.</summary>
internal static class TestVectors
{
    public static float[] RandomUnit(DeterministicRandom random, int d)
    {
        float[] v = new float[d];
        for (int i = 0; i < d; i++) v[i] = (float)random.NextGaussian();
        VectorMath.Normalize(v);
        return v;
    }

    /// <summary>Patches drawn around the given directions: patch i belongs to group labels[i], with noise of the given norm.</summary>
    public static DenseEmbeddings Grouped(float[][] directions, int[] labels, double noise, ulong seed, int gridWidth = 0)
    {
        int d = directions[0].Length;
        var random = new DeterministicRandom(seed);
        float[] patches = new float[labels.Length * d];
        for (int i = 0; i < labels.Length; i++)
        {
            for (int j = 0; j < d; j++) patches[i * d + j] = directions[labels[i]][j] + (float)(noise * random.NextGaussian() / Math.Sqrt(d));
        }

        float[] global = new float[d];
        for (int i = 0; i < labels.Length; i++)
        {
            for (int j = 0; j < d; j++) global[j] += patches[i * d + j];
        }

        int w = gridWidth > 0 ? gridWidth : labels.Length;
        return new DenseEmbeddings(patches, labels.Length, d, global, w, labels.Length / w).Normalized();
    }
}
