using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Float32 brute-force top-k by inner product, one vector per item: the ground truth that
/// approximate indexes are measured against. Base vectors are read in blocks that stay in
/// cache while every query of a worker is scored against them, so each worker reads the base once.
/// </summary>
public static class ExactNeighbours
{
    private const int BaseRowsPerBlock = 1024;

    /// <summary>Returns queryCount × k base row numbers, best first (equal scores: lower row first).</summary>
    public static int[] Compute(float[] baseVectors, int baseCount, float[] queries, int queryCount, int dimension, int k, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(baseVectors);
        ArgumentNullException.ThrowIfNull(queries);
        if (k <= 0 || k > baseCount) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1..{baseCount}.");
        if (baseVectors.Length < (long)baseCount * dimension || queries.Length < (long)queryCount * dimension)
        {
            throw new ArgumentException("Vector buffers are shorter than their counts and dimension say.");
        }

        int[] result = new int[queryCount * k];
        int workers = Math.Max(1, Math.Min(queryCount, maxThreads > 0 ? maxThreads : Environment.ProcessorCount));
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            int firstQuery = (int)((long)queryCount * worker / workers);
            int n = (int)((long)queryCount * (worker + 1) / workers) - firstQuery;
            float[] bestScores = new float[n * k];
            bestScores.AsSpan().Fill(float.NegativeInfinity);
            Span<int> bestRows = result.AsSpan(firstQuery * k, n * k);
            bestRows.Fill(-1);
            for (int blockStart = 0; blockStart < baseCount; blockStart += BaseRowsPerBlock)
            {
                int blockEnd = Math.Min(baseCount, blockStart + BaseRowsPerBlock);
                for (int q = 0; q < n; q++)
                {
                    ReadOnlySpan<float> query = queries.AsSpan((firstQuery + q) * dimension, dimension);
                    Span<float> scores = bestScores.AsSpan(q * k, k);
                    Span<int> rows = bestRows.Slice(q * k, k);
                    for (int row = blockStart; row < blockEnd; row++)
                    {
                        float score = TensorPrimitives.Dot(query, baseVectors.AsSpan(row * dimension, dimension));
                        if (score <= scores[k - 1]) continue;
                        int i = k - 1;
                        while (i > 0 && score > scores[i - 1])
                        {
                            scores[i] = scores[i - 1];
                            rows[i] = rows[i - 1];
                            i--;
                        }

                        scores[i] = score;
                        rows[i] = row;
                    }
                }
            }
        });
        return result;
    }

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
