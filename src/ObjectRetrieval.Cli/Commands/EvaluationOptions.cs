using System.CommandLine;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>The options every evaluation command shares, parsed in one place.</summary>
internal sealed class EvaluationOptions
{
    public Option<int> K { get; } = new("--k") { Description = "Rank depth of mAP@k.", DefaultValueFactory = _ => 50 };

    public Option<int> Clusters { get; } = new("--clusters") { Description = "Vectors per image (K of the aggregation, 1-255).", DefaultValueFactory = _ => 16 };

    public Option<string> Modes { get; } = new("--modes") { Description = "Comma-separated scoring modes: global, cluster, dense.", DefaultValueFactory = _ => "global,cluster,dense" };

    public Option<string> Aggregation { get; } = new("--aggregation") { Description = "kmeans, kcenter, hybrid, cover, or all (one row per strategy).", DefaultValueFactory = _ => new AggregationOptions().Strategy.ToString().ToLowerInvariant() };

    public Option<bool> ExcludeNormOutliers { get; } = new("--exclude-norm-outliers") { Description = "Leave patches with anomalous raw norms (ViT artefact tokens) out of selection." };

    public Option<float> MergeThreshold { get; } = new("--merge-threshold")
    {
        Description = "Variable K: merge an image's vectors whose cosine is at least this; 1 keeps all K (fixed K).",
        DefaultValueFactory = _ => AggregationOptions.DefaultMergeThreshold,
    };

    public Option<double> CoverEvidence { get; } = new("--cover-evidence")
    {
        Description = "Cover: robust deviations (z) above the median misfit that make a patch evidence of something the regions miss.",
        DefaultValueFactory = _ => new AggregationOptions().CoverEvidenceDeviations,
    };

    public Option<string?> Json { get; } = new("--json") { Description = "Also write the table as JSON to this file." };

    public void AddTo(Command command)
    {
        command.Options.Add(K);
        command.Options.Add(Clusters);
        command.Options.Add(Modes);
        command.Options.Add(Aggregation);
        command.Options.Add(ExcludeNormOutliers);
        command.Options.Add(MergeThreshold);
        command.Options.Add(CoverEvidence);
        command.Options.Add(Json);
        K.Validators.Add(r => { if (r.GetValueOrDefault<int>() is <= 0 or > 10_000) r.AddError("--k must be between 1 and 10000."); });
        MergeThreshold.Validators.Add(r => { if (r.GetValueOrDefault<float>() is var t && !(t is >= -1 and <= 1)) r.AddError("--merge-threshold is a cosine between -1 and 1."); });
        Clusters.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 255) r.AddError("--clusters must be between 1 and 255."); });
    }

    public IReadOnlyList<ScoringMode> ParseModes(ParseResult result)
    {
        var modes = new List<ScoringMode>();
        foreach (string part in result.GetValue(Modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ModeVectors.TryParse(part, out ScoringMode mode)) throw new ArgumentException($"Unknown mode '{part}' in --modes; use global, cluster or dense.");
            if (!modes.Contains(mode)) modes.Add(mode);
        }

        return modes.Count > 0 ? modes : throw new ArgumentException("--modes names no mode.");
    }

    /// <summary>One set of aggregation settings per strategy named by --aggregation.</summary>
    public IReadOnlyList<AggregationOptions> ParseAggregations(ParseResult result)
    {
        string text = result.GetValue(Aggregation)!.Trim();
        IEnumerable<AggregationStrategy> strategies = text.Equals("all", StringComparison.OrdinalIgnoreCase)
            ? Enum.GetValues<AggregationStrategy>()
            : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(AggregationOptions.ParseStrategy).Distinct();
        var options = strategies.Select(s => new AggregationOptions
        {
            Strategy = s,
            Clusters = result.GetValue(Clusters),
            ExcludeNormOutliers = result.GetValue(ExcludeNormOutliers),
            MergeThreshold = result.GetValue(MergeThreshold) is var t && t < 1 ? t : null,
            CoverEvidenceDeviations = result.GetValue(CoverEvidence),
        }).ToList();
        return options.Count > 0 ? options : throw new ArgumentException("--aggregation names no strategy.");
    }
}
