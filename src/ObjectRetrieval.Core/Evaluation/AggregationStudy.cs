using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Core.Evaluation;

/// <summary>One kind of data of the study: a name for the property it stresses and the generator settings.</summary>
public sealed record StudyDataProperty(string Name, SyntheticDenseOptions Data);

/// <summary>One aggregation setting of the study: strategy, K and the variable-K merge threshold (null: fixed K).</summary>
public sealed record StudyConfiguration(AggregationStrategy Strategy, int Clusters, float? MergeThreshold = null)
{
    public string Label => $"{Strategy.ToString().ToLowerInvariant()} K={Clusters}{(MergeThreshold is { } t ? $" τ={t:0.00}" : "")}";

    public AggregationOptions Options => new() { Strategy = Strategy, Clusters = Clusters, MergeThreshold = MergeThreshold };
}

/// <summary>mAP of one configuration on one cell (data property × seed), with the vectors it stores per image.</summary>
public sealed record StudyScore(string Cell, string Configuration, double MeanAveragePrecision, double SmallMeanAveragePrecision, double VectorsPerImage);

/// <summary>The reference rows of one cell: every patch (dense) and the global vector alone.</summary>
public sealed record StudyBaseline(string Cell, double DenseMap, double DenseSmallMap, double GlobalMap, double GlobalSmallMap);

/// <summary>
/// A configuration's worst case over every cell: small-object mAP as a fraction of dense's, and overall mAP minus
/// k-means' at the same K (in mAP units), each with the cell where it is worst.
/// </summary>
public sealed record StudySummary(
    string Configuration,
    double WorstSmallFractionOfDense,
    string WorstSmallCell,
    double WorstOverallMinusKMeans,
    string WorstOverallCell,
    int CellsAtLeastKMeans,
    int Cells,
    double MeanVectorsPerImage);

public sealed record StudyReport(
    IReadOnlyList<StudyDataProperty> Properties,
    IReadOnlyList<ulong> Seeds,
    IReadOnlyList<StudyBaseline> Baselines,
    IReadOnlyList<StudyScore> Scores,
    IReadOnlyList<StudySummary> Summaries,
    string Chosen,
    string ChoiceRule);

/// <summary>
/// The aggregation study: every configuration on every cell of (data property × seed), summarised by its worst
/// cell, and the default chosen on that worst case rather than on the best.
/// </summary>
public static class AggregationStudy
{
    /// <summary>Overall mAP may trail k-means' by at most this (mAP units) on a cell and still count as "at its level".</summary>
    public const double KMeansTolerance = 0.005;

    /// <summary>
    /// The data properties of the documented grid: each stresses one property real CLIP features have (at noise 1.2,
    /// where single patches are already unreliable), plus the clean and the noisiest sets and two with everything at once.
    /// </summary>
    public static IReadOnlyList<StudyDataProperty> DefaultProperties(int images)
    {
        var noisy = new SyntheticDenseOptions { Images = images, Noise = 1.2 };
        var everything = noisy with
        {
            Dimension = 256, Categories = 30, FamilyShare = 0.5, FamilySimilarity = 0.7, BackgroundLean = 0.4, TextMisalignment = 0.6,
            NeighbourBleed = 0.3, SmallObjectMaxPatches = 2, SmallObjectShare = 0.5, GlobalLargeRegionBias = 1,
        };
        return
        [
            new("clean (noise 0.6)", noisy with { Noise = 0.6 }),
            new("noise 1.2", noisy),
            new("noise 1.8", noisy with { Noise = 1.8 }),
            new("hard negatives (half in pairs, cos 0.8)", noisy with { FamilyShare = 0.5, FamilySimilarity = 0.8 }),
            new("background lean 0.5", noisy with { BackgroundLean = 0.5 }),
            new("text misaligned 0.8", noisy with { TextMisalignment = 0.8 }),
            new("neighbour bleed 0.4", noisy with { NeighbourBleed = 0.4 }),
            new("neighbour bleed 0.5, noise 1.8", noisy with { NeighbourBleed = 0.5, Noise = 1.8 }),
            new("background lean 0.8, noise 1.8", noisy with { BackgroundLean = 0.8, Noise = 1.8, SmallObjectMaxPatches = 2 }),
            new("objects of 1-4 patches", noisy with { SmallObjectMaxPatches = 4, SmallObjectShare = 0.6 }),
            new("global dominated by large regions", noisy with { GlobalLargeRegionBias = 1 }),
            new("crowded (up to 6 objects)", noisy with { MaxObjectsPerImage = 6 }),
            new("everything, noise 1.2", everything),
            new("everything, noise 1.8", everything with { Noise = 1.8 }),
        ];
    }

    /// <summary>Every strategy at K = 8 and 16, and variable K (τ = 0.95, 0.90) on the covering strategies.</summary>
    public static IReadOnlyList<StudyConfiguration> DefaultConfigurations()
    {
        var result = new List<StudyConfiguration>();
        foreach (int k in new[] { 8, 16 })
        {
            foreach (AggregationStrategy s in Enum.GetValues<AggregationStrategy>()) result.Add(new(s, k));
            foreach (float t in new[] { 0.95f, 0.9f })
            {
                result.Add(new(AggregationStrategy.Hybrid, k, t));
                result.Add(new(AggregationStrategy.Cover, k, t));
            }
        }

        return result;
    }

    public static StudyReport Run<TIndex>(
        IReadOnlyList<StudyDataProperty> properties,
        IReadOnlyList<ulong> seeds,
        IReadOnlyList<StudyConfiguration> configurations,
        int k,
        Func<int, TIndex> createIndex,
        IProgress<string>? progress = null)
        where TIndex : IVectorIndexReader, IVectorIndexWriter
    {
        if (properties.Count == 0 || seeds.Count == 0 || configurations.Count == 0) throw new ArgumentException("The study needs at least one property, seed and configuration.");
        var baselines = new List<StudyBaseline>();
        var scores = new List<StudyScore>();
        foreach (StudyDataProperty property in properties)
        {
            foreach (ulong seed in seeds)
            {
                string cell = $"{property.Name} / seed {seed}";
                progress?.Report(cell);
                DenseFeatureSet set = SyntheticDenseGenerator.Generate(property.Data with { Seed = seed });
                IReadOnlyList<EvaluationQuery> queries = set.Queries();
                bool first = true;
                foreach (StudyConfiguration configuration in configurations)
                {
                    var (representations, _) = RepresentationEvaluation.Aggregate(set, configuration.Options.CreateAggregator(), keepDensePatches: first);
                    ScoringMode[] modes = first ? [ScoringMode.Cluster, ScoringMode.Dense, ScoringMode.Global] : [ScoringMode.Cluster];
                    IReadOnlyList<ModeScore> result = RepresentationEvaluation.Evaluate(representations, set.Dataset, queries, modes, k, createIndex);
                    if (first)
                    {
                        baselines.Add(new StudyBaseline(cell, result[1].MeanAveragePrecision, result[1].SmallMeanAveragePrecision, result[2].MeanAveragePrecision, result[2].SmallMeanAveragePrecision));
                        first = false;
                    }

                    scores.Add(new StudyScore(cell, configuration.Label, result[0].MeanAveragePrecision, result[0].SmallMeanAveragePrecision, representations.Average(r => (double)r.CentroidCount)));
                }
            }
        }

        IReadOnlyList<StudySummary> summaries = Summarise(configurations, baselines, scores);
        return new StudyReport(properties, seeds, baselines, scores, summaries, Choose(summaries), ChoiceRule);
    }

    public const string ChoiceRule =
        "among configurations at k-means' overall level on every cell, the highest worst-case small-object fraction of dense; " +
        "within 0.01 of it, the fewest vectors per image";

    public static IReadOnlyList<StudySummary> Summarise(IReadOnlyList<StudyConfiguration> configurations, IReadOnlyList<StudyBaseline> baselines, IReadOnlyList<StudyScore> scores)
    {
        var byCell = baselines.ToDictionary(b => b.Cell);
        var lookup = scores.ToDictionary(s => (s.Cell, s.Configuration));
        var summaries = new List<StudySummary>();
        foreach (StudyConfiguration configuration in configurations)
        {
            string reference = new StudyConfiguration(AggregationStrategy.KMeans, configuration.Clusters).Label;
            var mine = scores.Where(s => s.Configuration == configuration.Label).ToList();
            if (mine.Count == 0) continue;
            var fractions = mine.Select(s => (s.Cell, Value: SmallFraction(s.SmallMeanAveragePrecision, byCell[s.Cell].DenseSmallMap))).ToList();
            var margins = mine.Select(s => (s.Cell, Value: lookup.TryGetValue((s.Cell, reference), out StudyScore? k) ? s.MeanAveragePrecision - k.MeanAveragePrecision : double.NaN)).ToList();
            var worstSmall = fractions.MinBy(f => f.Value);
            var worstOverall = margins.Where(m => !double.IsNaN(m.Value)).DefaultIfEmpty((Cell: "-", Value: double.NaN)).MinBy(m => m.Value);
            summaries.Add(new StudySummary(
                configuration.Label,
                worstSmall.Value,
                worstSmall.Cell,
                worstOverall.Value,
                worstOverall.Cell,
                margins.Count(m => m.Value >= -KMeansTolerance),
                mine.Count,
                mine.Average(s => s.VectorsPerImage)));
        }

        return summaries;
    }

    /// <summary>See <see cref="ChoiceRule"/>; with no configuration at k-means' level, the one closest to it.</summary>
    public static string Choose(IReadOnlyList<StudySummary> summaries)
    {
        var eligible = summaries.Where(s => s.CellsAtLeastKMeans == s.Cells).ToList();
        if (eligible.Count == 0) return summaries.MaxBy(s => s.WorstOverallMinusKMeans)?.Configuration ?? "-";
        double best = eligible.Max(s => s.WorstSmallFractionOfDense);
        return eligible.Where(s => s.WorstSmallFractionOfDense >= best - 0.01).MinBy(s => s.MeanVectorsPerImage)!.Configuration;
    }

    /// <summary>Small-object mAP relative to dense; capped at 1 only in display, so that beating dense shows.</summary>
    private static double SmallFraction(double small, double dense) => dense > 0 ? small / dense : double.NaN;
}
