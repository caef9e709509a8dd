namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Float32 brute-force top-k by inner product, one vector per item: the ground truth that
/// approximate indexes are measured against (<see cref="ExactMaxSim"/> with one vector per item).
/// </summary>
public static class ExactNeighbours
{
    /// <summary>Returns queryCount × k base row numbers, best first (equal scores: lower row first).</summary>
    public static int[] Compute(float[] baseVectors, int baseCount, float[] queries, int queryCount, int dimension, int k, int maxThreads = 0) =>
        ExactMaxSim.Compute(baseVectors, baseCount, vectorsPerImage: 1, queries, queryCount, dimension, k, maxThreads);

    /// <summary>Mean over queries of |found ∩ truth| / k, comparing the first k of each row.</summary>
    public static double Recall(ReadOnlySpan<int> truth, int truthColumns, ReadOnlySpan<int> found, int foundColumns, int queryCount, int k)
    {
        if (k > truthColumns || k > foundColumns) throw new ArgumentOutOfRangeException(nameof(k), k, "k exceeds the columns given.");
        long hits = 0;
        for (int q = 0; q < queryCount; q++)
        {
            ReadOnlySpan<int> expected = truth.Slice(q * truthColumns, k);
            foreach (int row in found.Slice(q * foundColumns, k))
            {
                if (row >= 0 && expected.Contains(row)) hits++;
            }
        }

        return queryCount == 0 ? 0 : (double)hits / ((long)queryCount * k);
    }
}
