using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Tests.Index;

/// <summary>Seeded random unit vectors for index tests.</summary>
internal static class TestVectors
{
    public static float[] Unit(int count, int dim, int seed)
    {
        var random = new Random(seed);
        float[] data = new float[count * dim];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        for (int r = 0; r < count; r++)
        {
            Span<float> row = data.AsSpan(r * dim, dim);
            TensorPrimitives.Multiply(row, 1f / TensorPrimitives.Norm(row), row);
        }

        return data;
    }

    /// <summary>Brute-force per-image max over float vectors: (image index, best score, best ordinal), best first, ties by id.</summary>
    public static List<(int Image, float Score, int Ordinal)> BruteForce(float[] vectors, int[] vectorsPerImage, int dim, ReadOnlySpan<float> query, int k)
    {
        var results = new List<(int Image, float Score, int Ordinal)>();
        int row = 0;
        for (int image = 0; image < vectorsPerImage.Length; image++)
        {
            float best = float.NegativeInfinity;
            int bestOrdinal = -1;
            for (int v = 0; v < vectorsPerImage[image]; v++, row++)
            {
                float score = TensorPrimitives.Dot(query, vectors.AsSpan(row * dim, dim));
                if (score > best)
                {
                    best = score;
                    bestOrdinal = v;
                }
            }

            results.Add((image, best, bestOrdinal));
        }

        return results
            .OrderByDescending(r => r.Score)
            .ThenBy(r => Id(r.Image), StringComparer.Ordinal)
            .Take(k)
            .ToList();
    }

    public static string Id(int image) => $"img-{image:D5}";
}
