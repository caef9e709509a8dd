using System.CommandLine;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Evaluation;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>Evaluation on dense features: bring-your-own (.npy) or synthetic.</summary>
internal static class DenseEvaluationCommands
{
    public static Command GenDense()
    {
        var output = new Option<string>("--out") { Description = "Directory to write patches.npy, global.npy, image_ids.json, text.npy, annotations.json.", Required = true };
        var synthetic = SyntheticOptions.Create();
        var command = new Command("gen-dense", "Generate synthetic dense CLIP-like features with known objects (no images needed).") { output };
        synthetic.AddTo(command);
        command.SetHandler((result, _) =>
        {
            var options = synthetic.Parse(result);
            DenseFeatureSet set = SyntheticDenseGenerator.Generate(options);
            string directory = result.GetValue(output)!;
            set.Save(directory);
            Console.WriteLine($"wrote {set.ImageCount} images × {set.PatchCount} patches × {set.Dimension} dims, {set.Dataset.Annotations.Count} objects to {directory}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command EvalSynthetic()
    {
        var synthetic = SyntheticOptions.Create();
        var evaluation = new EvaluationOptions();
        var keep = new Option<string?>("--out") { Description = "Also keep the generated features in this directory." };
        var command = new Command("eval-synthetic", "Generate synthetic dense features and evaluate global, cluster and dense retrieval on them.") { keep };
        synthetic.AddTo(command);
        evaluation.AddTo(command);
        command.SetHandler((result, _) =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            DenseFeatureSet set = SyntheticDenseGenerator.Generate(synthetic.Parse(result));
            if (result.GetValue(keep) is { } directory) set.Save(directory);
            Console.Error.WriteLine($"generated {set.ImageCount} images in {started.Elapsed.TotalSeconds:F1}s");
            int code = Evaluate(set, result, evaluation);
            Console.Error.WriteLine($"done in {started.Elapsed.TotalSeconds:F1}s");
            return code;
        });
        return command;
    }

    /// <summary>
    /// <c>objret study-aggregation</c>: every strategy × K × variable-K threshold on every data property × seed of the
    /// documented grid; prints each configuration's worst cell and the default the worst case chooses.
    /// </summary>
    public static Command StudyAggregation()
    {
        var images = new Option<int>("--images") { Description = "Images per cell.", DefaultValueFactory = _ => 600 };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated generator seeds; every data property is generated once per seed.", DefaultValueFactory = _ => "101,202" };
        var k = new Option<int>("--k") { Description = "Rank depth of mAP@k.", DefaultValueFactory = _ => 50 };
        var only = new Option<string?>("--properties") { Description = "Only the data properties whose name contains one of these comma-separated words." };
        var json = new Option<string?>("--json") { Description = "Also write every score, baseline and summary as JSON to this file." };
        var command = new Command("study-aggregation", "Aggregation study: strategy × K × variable-K threshold on varied synthetic data; the default chosen by the worst case.")
        {
            images, seeds, k, only, json,
        };
        images.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 50) r.AddError("--images must be at least 50."); });
        command.SetHandler((result, _) =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            ulong[] seedList = result.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => ulong.TryParse(t, out ulong v) ? v : throw new ArgumentException($"--seeds: '{t}' is not a non-negative integer.")).ToArray();
            if (seedList.Length == 0) throw new ArgumentException("--seeds names no seed.");
            IReadOnlyList<StudyDataProperty> properties = AggregationStudy.DefaultProperties(result.GetValue(images));
            if (result.GetValue(only) is { } filter)
            {
                string[] words = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                properties = properties.Where(p => words.Any(w => p.Name.Contains(w, StringComparison.OrdinalIgnoreCase))).ToList();
                if (properties.Count == 0) throw new ArgumentException($"--properties '{filter}' matches no data property.");
            }

            var progress = new Progress<string>(cell => Console.Error.WriteLine($"[{started.Elapsed.TotalSeconds,6:F0}s] {cell}"));
            StudyReport report = AggregationStudy.Run(properties, seedList, AggregationStudy.DefaultConfigurations(), result.GetValue(k), EvaluationIndex.Create, progress);
            Console.Write(StudyTable.Format(report));
            if (result.GetValue(json) is { } path) EvaluationTable.WriteJson(path, report);
            Console.Error.WriteLine($"done in {started.Elapsed.TotalSeconds:F0}s");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The dense-feature half of <c>objret eval</c>.</summary>
    internal static int EvaluateDirectory(string directory, string? annotations, string? grid, ParseResult result, EvaluationOptions evaluation)
    {
        DenseFeatureSet set = DenseFeatureSet.Load(directory, annotations, ParseGrid(grid));
        return Evaluate(set, result, evaluation);
    }

    private static int Evaluate(DenseFeatureSet set, ParseResult result, EvaluationOptions evaluation)
    {
        IReadOnlyList<ScoringMode> modes = evaluation.ParseModes(result);
        var reports = new List<EvaluationReport>();
        foreach (AggregationOptions aggregation in evaluation.ParseAggregations(result))
        {
            // Global and dense rows do not depend on the aggregation: score them with the first strategy only.
            IReadOnlyList<ScoringMode> rowModes = reports.Count == 0 ? modes : modes.Where(m => m == ScoringMode.Cluster).ToList();
            if (rowModes.Count == 0) break;
            IAggregator aggregator = aggregation.CreateAggregator();
            var (representations, msPerImage) = RepresentationEvaluation.Aggregate(
                set, aggregator, keepDensePatches: rowModes.Contains(ScoringMode.Dense), new ConsoleProgress($"aggregating ({aggregator.Name})", set.ImageCount));
            var scores = RepresentationEvaluation.Evaluate(
                representations, set.Dataset, set.Queries(), rowModes, result.GetValue(evaluation.K), EvaluationIndex.Create);
            reports.Add(new EvaluationReport(set.ImageCount, aggregator.Name, aggregation.Clusters, msPerImage, scores, representations.Average(r => (double)r.CentroidCount)));
        }

        Console.Write(EvaluationTable.Format(reports));
        if (result.GetValue(evaluation.Json) is { } json) EvaluationTable.WriteJson(json, reports);
        return ExitCodes.Success;
    }

    private static (int, int)? ParseGrid(string? grid)
    {
        if (grid is null) return null;
        string[] parts = grid.Split('x', 'X');
        return parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h) && w > 0 && h > 0
            ? (w, h)
            : throw new ArgumentException($"--grid '{grid}' is not WIDTHxHEIGHT (e.g. 14x14).");
    }

    /// <summary>Options of the synthetic generator, shared by gen-dense and eval-synthetic.</summary>
    private sealed class SyntheticOptions
    {
        private static readonly SyntheticDenseOptions Defaults = new();
        private readonly Option<int> _images = new("--images") { Description = "Number of images.", DefaultValueFactory = _ => Defaults.Images };
        private readonly Option<ulong> _seed = new("--seed") { Description = "Random seed.", DefaultValueFactory = _ => Defaults.Seed };
        private readonly Option<int> _dim = new("--dim") { Description = "Embedding dimension.", DefaultValueFactory = _ => Defaults.Dimension };
        private readonly Option<int> _grid = new("--grid") { Description = "Patch grid side (grid × grid patches).", DefaultValueFactory = _ => Defaults.Grid };
        private readonly Option<double> _noise = new("--noise") { Description = "Patch noise norm relative to the semantic signal (0.6 default; 1.2 makes single patches unreliable).", DefaultValueFactory = _ => Defaults.Noise };
        private readonly Option<int> _categories = new("--categories") { Description = "Number of object categories (queries).", DefaultValueFactory = _ => Defaults.Categories };
        private readonly Option<double> _familyShare = new("--family-share") { Description = "Share of categories in families of similar ones (hard negatives), 0-1.", DefaultValueFactory = _ => Defaults.FamilyShare };
        private readonly Option<double> _familySimilarity = new("--family-similarity") { Description = "Cosine between categories of one family.", DefaultValueFactory = _ => Defaults.FamilySimilarity };
        private readonly Option<double> _lean = new("--background-lean") { Description = "How far categories lean towards a background of their own, 0-1.", DefaultValueFactory = _ => Defaults.BackgroundLean };
        private readonly Option<double> _misalignment = new("--text-misalignment") { Description = "Norm of the random offset between a text vector and its category's image direction.", DefaultValueFactory = _ => Defaults.TextMisalignment };
        private readonly Option<double> _bleed = new("--bleed") { Description = "Share of a patch's signal bled in from its four neighbours, 0-1.", DefaultValueFactory = _ => Defaults.NeighbourBleed };
        private readonly Option<double> _globalBias = new("--global-bias") { Description = "Global vector weights regions by size^bias on top of the mean (1: large regions dominate).", DefaultValueFactory = _ => Defaults.GlobalLargeRegionBias };
        private readonly Option<int> _maxObjects = new("--max-objects") { Description = "Most objects per image.", DefaultValueFactory = _ => Defaults.MaxObjectsPerImage };
        private readonly Option<double> _smallShare = new("--small-share") { Description = "Share of objects that are small.", DefaultValueFactory = _ => Defaults.SmallObjectShare };
        private readonly Option<int> _smallPatches = new("--small-max-patches") { Description = "Largest small object in patches (1-4).", DefaultValueFactory = _ => Defaults.SmallObjectMaxPatches };

        public static SyntheticOptions Create() => new();

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { _images, _seed, _dim, _grid, _noise, _categories, _familyShare, _familySimilarity, _lean, _misalignment, _bleed, _globalBias, _maxObjects, _smallShare, _smallPatches })
            {
                command.Options.Add(option);
            }
        }

        public SyntheticDenseOptions Parse(ParseResult result) => new()
        {
            Images = result.GetValue(_images),
            Seed = result.GetValue(_seed),
            Dimension = result.GetValue(_dim),
            Grid = result.GetValue(_grid),
            Noise = result.GetValue(_noise),
            Categories = result.GetValue(_categories),
            FamilyShare = result.GetValue(_familyShare),
            FamilySimilarity = result.GetValue(_familySimilarity),
            BackgroundLean = result.GetValue(_lean),
            TextMisalignment = result.GetValue(_misalignment),
            NeighbourBleed = result.GetValue(_bleed),
            GlobalLargeRegionBias = result.GetValue(_globalBias),
            MaxObjectsPerImage = result.GetValue(_maxObjects),
            SmallObjectShare = result.GetValue(_smallShare),
            SmallObjectMaxPatches = result.GetValue(_smallPatches),
        };
    }
}
