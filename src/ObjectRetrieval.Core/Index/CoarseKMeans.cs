using System.Numerics.Tensors;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Training of the IVF coarse quantiser: spherical k-means (cosine) over up to millions of stored
/// vectors with thousands of centroids, where the per-image aggregation
/// (<see cref="Aggregation.SphericalKMeans"/>) works on a few hundred patches. Assign each unit vector to the centroid of highest inner
/// product, move each centroid to the normalised mean of its members, repeat. Starts from
/// distinct random members; an emptied cluster is re-seeded from a random member. Everything
/// random comes from the given <see cref="Random"/>, and sums run in a fixed order, so the
/// result depends only on the data and the seed, not on how many threads assign.
/// </summary>
internal static class CoarseKMeans
{
    /// <summary>Clusters rows <paramref name="members"/> of the row-major <paramref name="data"/>; returns k × dim centroids and fills <paramref name="assignment"/>.</summary>
    public static float[] Train(float[] data, int dim, int[] members, int k, int iterations, Random random, int[] assignment)
    {
        if (k <= 0 || k > members.Length) throw new ArgumentOutOfRangeException(nameof(k), k, $"Need 1..{members.Length} clusters.");
        float[] centroids = new float[k * dim];
        int[] start = SampleDistinct(members.Length, k, random);
        for (int c = 0; c < k; c++)
        {
            data.AsSpan(members[start[c]] * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
        }

        int[] sizes = new int[k];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Assign(data, dim, members, centroids, k, assignment);
            Array.Clear(centroids);
            Array.Clear(sizes);
            for (int i = 0; i < members.Length; i++)
            {
                int c = assignment[i];
                sizes[c]++;
                Span<float> sum = centroids.AsSpan(c * dim, dim);
                TensorPrimitives.Add(sum, data.AsSpan(members[i] * dim, dim), sum);
            }

            for (int c = 0; c < k; c++)
            {
                Span<float> centroid = centroids.AsSpan(c * dim, dim);
                float norm = TensorPrimitives.Norm(centroid);
                if (sizes[c] == 0 || norm < 1e-12f)
                {
                    data.AsSpan(members[random.Next(members.Length)] * dim, dim).CopyTo(centroid);
                }
                else
                {
                    TensorPrimitives.Multiply(centroid, 1f / norm, centroid);
                }
            }
        }

        Assign(data, dim, members, centroids, k, assignment);
        return centroids;
    }

    /// <summary>
    /// assignment[i] = the centroid nearest (highest inner product) to row members[i], on all cores.
    /// Scored on int8 codes of rows and centroids, like the IVF probe: about three times faster
    /// than float, and the ordering of clearly different centroids is unchanged.
    /// </summary>
    public static void Assign(float[] data, int dim, int[] members, float[] centroids, int k, int[] assignment)
    {
        const int RowsPerTask = 256;
        var codec = new Int8VectorCodec(dim);
        var codes = new CodeStore(codec, k);
        for (int c = 0; c < k; c++) codes.Add(centroids.AsSpan(c * dim, dim));
        int tasks = (members.Length + RowsPerTask - 1) / RowsPerTask;
        Parallel.For(0, tasks, t =>
        {
            SearchScratch scratch = SearchScratch.For(dim);
            Span<float> scores = scratch.CoarseScores(k);
            int end = Math.Min(members.Length, (t + 1) * RowsPerTask);
            for (int i = t * RowsPerTask; i < end; i++)
            {
                codec.PrepareQuery(data.AsSpan(members[i] * dim, dim), scratch.Query);
                codes.ScoreAll(scratch.Query, scores);
                assignment[i] = TensorPrimitives.IndexOfMax(scores);
            }
        });
    }

    /// <summary><paramref name="count"/> distinct values of [0, n) by a partial Fisher–Yates shuffle.</summary>
    public static int[] SampleDistinct(int n, int count, Random random)
    {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }

        return all[..count];
    }
}
