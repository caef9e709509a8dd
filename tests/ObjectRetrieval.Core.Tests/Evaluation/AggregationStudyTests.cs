using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Evaluation;
using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Core.Tests.Evaluation;

public sealed class AggregationStudyTests
{
    private static StudySummary Summary(string name, double worstSmall, double worstOverall, int atLeast, double vectors) =>
        new(name, worstSmall, "a", worstOverall, "b", atLeast, 4, vectors);

    [Fact]
    public void The_choice_takes_the_best_worst_case_among_configurations_never_below_kmeans()
    {
        StudySummary[] summaries =
        [
            Summary("kmeans K=8", 0.2, 0, 4, 8),
            Summary("best but below kmeans once", 0.99, -0.02, 3, 8),
            Summary("good", 0.90, 0.01, 4, 16),
            Summary("as good and leaner", 0.895, 0.01, 4, 12),
            Summary("worse", 0.7, 0.05, 4, 6),
        ];
        Assert.Equal("as good and leaner", AggregationStudy.Choose(summaries));
    }

    [Fact]
    public void A_small_study_scores_every_configuration_on_every_cell_and_compares_it_with_kmeans()
    {
        var data = new SyntheticDenseOptions { Images = 80, Dimension = 32, Grid = 8 };
        StudyDataProperty[] properties = [new("clean", data with { Noise = 0.3 }), new("noisy", data with { Noise = 1.5 })];
        StudyConfiguration[] configurations = [new(AggregationStrategy.KMeans, 4), new(AggregationStrategy.Cover, 4), new(AggregationStrategy.Cover, 4, 0.8f)];

        StudyReport report = AggregationStudy.Run(properties, [1UL, 2UL], configurations, 20, d => new FlatVectorIndex(d, VectorCodecKind.Float32));

        Assert.Equal(4, report.Baselines.Count);
        Assert.Equal(12, report.Scores.Count);
        StudySummary kmeans = report.Summaries.Single(s => s.Configuration == "kmeans K=4");
        Assert.Equal(0, kmeans.WorstOverallMinusKMeans);
        Assert.Equal(4, kmeans.CellsAtLeastKMeans);
        StudySummary merged = report.Summaries.Single(s => s.Configuration == "cover K=4 τ=0.80");
        Assert.True(merged.MeanVectorsPerImage < 4, "a loose merge threshold must leave some images with fewer vectors");
        Assert.Contains(report.Chosen, report.Summaries.Select(s => s.Configuration));
    }
}
