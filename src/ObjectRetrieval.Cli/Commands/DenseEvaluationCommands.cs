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
            reports.Add(new EvaluationReport(set.ImageCount, aggregator.Name, aggregation.Clusters, msPerImage, scores));
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
        private readonly Option<int> _images = new("--images") { Description = "Number of images.", DefaultValueFactory = _ => 2000 };
        private readonly Option<ulong> _seed = new("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 7UL };
        private readonly Option<int> _dim = new("--dim") { Description = "Embedding dimension.", DefaultValueFactory = _ => 128 };
        private readonly Option<int> _grid = new("--grid") { Description = "Patch grid side (grid × grid patches).", DefaultValueFactory = _ => 16 };
        private readonly Option<double> _noise = new("--noise") { Description = "Patch noise norm relative to the semantic signal (0.6 default; 1.2 makes single patches unreliable).", DefaultValueFactory = _ => 0.6 };

        public static SyntheticOptions Create() => new();

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { _images, _seed, _dim, _grid, _noise }) command.Options.Add(option);
        }

        public SyntheticDenseOptions Parse(ParseResult result) => new()
        {
            Images = result.GetValue(_images),
            Seed = result.GetValue(_seed),
            Dimension = result.GetValue(_dim),
            Grid = result.GetValue(_grid),
            Noise = result.GetValue(_noise),
        };
    }
}
