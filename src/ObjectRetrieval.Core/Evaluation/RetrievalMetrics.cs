namespace ObjectRetrieval.Core.Evaluation;

/// <summary>Ranking metrics as the retrieval literature reports them.</summary>
public static class RetrievalMetrics
{
    /// <summary>
    /// Average precision at k: the mean of precision@i over the ranks i ≤ k that hold a relevant item,
    /// divided by min(relevant count, k) so that a perfect top-k scores 1. Returns NaN without relevant items.
    /// </summary>
    public static double AveragePrecisionAtK<T>(IReadOnlyList<T> ranking, IReadOnlySet<T> relevant, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (relevant.Count == 0) return double.NaN;
        int hits = 0;
        double sum = 0;
        int depth = Math.Min(k, ranking.Count);
        for (int i = 0; i < depth; i++)
        {
            if (relevant.Contains(ranking[i]))
            {
                hits++;
                sum += (double)hits / (i + 1);
            }
        }

        return sum / Math.Min(relevant.Count, k);
    }

    /// <summary>Share of the exact top-k that the approximate top-k found.</summary>
    public static double RecallAtK<T>(IReadOnlyList<T> approximate, IReadOnlyList<T> exact, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int depth = Math.Min(k, exact.Count);
        if (depth == 0) return 1.0;
        var truth = new HashSet<T>(exact.Take(depth));
        return (double)approximate.Take(k).Count(truth.Contains) / depth;
    }
}
