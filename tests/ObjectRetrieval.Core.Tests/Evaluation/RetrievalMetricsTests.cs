using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Core.Tests.Evaluation;

public sealed class RetrievalMetricsTests
{
    [Fact]
    public void Average_precision_matches_a_hand_computation()
    {
        // Relevant at ranks 1, 3 and 6 of 3 relevant: (1/1 + 2/3 + 3/6) / 3.
        string[] ranking = ["a", "x", "b", "y", "z", "c"];
        var relevant = new HashSet<string> { "a", "b", "c" };
        Assert.Equal((1 + 2.0 / 3 + 0.5) / 3, RetrievalMetrics.AveragePrecisionAtK(ranking, relevant, 50), 10);
    }

    [Fact]
    public void Average_precision_at_k_ignores_hits_below_k_and_normalises_by_min_of_relevant_and_k()
    {
        string[] ranking = ["a", "b", "x", "c"];
        var relevant = new HashSet<string> { "a", "b", "c", "d", "e" };
        Assert.Equal(1.0, RetrievalMetrics.AveragePrecisionAtK(ranking, relevant, 2), 10);
        Assert.Equal((1 + 1 + 0.75) / 5, RetrievalMetrics.AveragePrecisionAtK(ranking, relevant, 50), 10);
    }

    [Fact]
    public void Average_precision_is_NaN_without_relevant_items_and_zero_when_none_are_found()
    {
        Assert.True(double.IsNaN(RetrievalMetrics.AveragePrecisionAtK(["a"], new HashSet<string>(), 10)));
        Assert.Equal(0, RetrievalMetrics.AveragePrecisionAtK(["a"], new HashSet<string> { "b" }, 10));
    }

    [Fact]
    public void Recall_counts_the_exact_top_k_found()
    {
        Assert.Equal(0.5, RetrievalMetrics.RecallAtK(["a", "x", "b", "y"], ["a", "b", "c", "d"], 4));
        Assert.Equal(1.0, RetrievalMetrics.RecallAtK(["b", "a"], ["a", "b", "c"], 2));
        Assert.Equal(1.0, RetrievalMetrics.RecallAtK<string>([], [], 10));
    }
}
