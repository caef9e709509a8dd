using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Evaluation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>The image half of <c>objret eval</c>: a COCO-format dataset encoded through the real encoder path.</summary>
internal static class ImageEvaluation
{
    public static async Task<int> RunAsync(string modelDirectory, string datasetDirectory, string? annotations, ParseResult result, EvaluationOptions evaluation, CancellationToken ct)
    {
        ModelPackage package = ModelPackage.Load(modelDirectory);
        string annotationsPath = annotations ?? Path.Combine(datasetDirectory, "annotations.json");
        CocoDataset dataset = CocoDataset.Load(annotationsPath);
        IReadOnlyList<ScoringMode> modes = evaluation.ParseModes(result);
        IReadOnlyList<AggregationOptions> aggregations = evaluation.ParseAggregations(result);
        bool needPatches = modes.Contains(ScoringMode.Dense) || aggregations.Count > 1;

        // The first strategy runs inside the encoder pipeline, which is what gets timed; further
        // strategies re-aggregate the kept patch vectors instead of running inference again.
        IAggregator first = aggregations[0].CreateAggregator();
        var options = new ImageEncoderOptions { KeepDensePatches = needPatches };
        var (representations, failures, wall, stats, provider) = await EncodeAllAsync(package, options, first, dataset, datasetDirectory, ct);
        if (representations.Count == 0) throw new InvalidDataException($"None of the {dataset.Images.Count} images of '{datasetDirectory}' could be encoded.");

        using TextEncoder text = TextEncoder.Create(package);
        var queries = dataset.Categories.Select(c => new EvaluationQuery(c.Id, c.Name, text.EmbedQuery(c.Name))).ToList();

        var reports = new List<EvaluationReport>();
        foreach (AggregationOptions aggregation in aggregations)
        {
            IReadOnlyList<ScoringMode> rowModes = reports.Count == 0 ? modes : modes.Where(m => m == ScoringMode.Cluster).ToList();
            if (rowModes.Count == 0) break;
            IAggregator aggregator = reports.Count == 0 ? first : aggregation.CreateAggregator();
            var (rows, msPerImage) = reports.Count == 0
                ? (representations, stats.AggregationSeconds * 1000 / Math.Max(1, stats.ImagesEncoded))
                : Reaggregate(representations, aggregator);
            var scores = RepresentationEvaluation.Evaluate(rows, dataset, queries, rowModes, result.GetValue(evaluation.K), EvaluationIndex.Create);
            reports.Add(new EvaluationReport(rows.Count, aggregator.Name, aggregation.Clusters, msPerImage, scores));
        }

        Console.Write(EvaluationTable.Format(reports));
        double imagesPerSecond = representations.Count / wall.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"encode: {representations.Count} images in {wall.TotalSeconds:F1}s = {imagesPerSecond:F1} images/s on {provider}; " +
            $"stage seconds (summed over workers): decode {stats.DecodeSeconds:F1}, inference {stats.InferenceSeconds:F1}, aggregation {stats.AggregationSeconds:F1}; " +
            $"mean batch {stats.MeanBatchViews:F1} views"));
        if (failures.Count > 0)
        {
            Console.WriteLine($"{failures.Count} images refused:");
            foreach (var (image, reason) in failures.Take(20)) Console.WriteLine($"  {image}: {reason}");
        }

        if (result.GetValue(evaluation.Json) is { } json)
        {
            EvaluationTable.WriteJson(json, new
            {
                reports,
                encode = new { images = representations.Count, failed = failures.Count, wallSeconds = wall.TotalSeconds, imagesPerSecond, provider, stats },
            });
        }

        return ExitCodes.Success;
    }

    private static async Task<(List<ImageRepresentation>, List<(string, string)>, TimeSpan, EncoderStatsSnapshot, string)> EncodeAllAsync(
        ModelPackage package, ImageEncoderOptions options, IAggregator aggregator, CocoDataset dataset, string directory, CancellationToken ct)
    {
        await using ImageEncoder encoder = ImageEncoder.Create(package, options, aggregator);
        var progress = new ConsoleProgress($"encoding ({encoder.ExecutionProvider})", dataset.Images.Count);
        var sources = dataset.Images.Select(i => ImageSource.FromFile(Path.Combine(directory, i.FileName), RetrievalEvaluator.ImageKey(i.Id)));
        var representations = new List<ImageRepresentation>(dataset.Images.Count);
        var failures = new List<(string, string)>();
        EncoderStatsSnapshot before = encoder.Statistics.Snapshot();
        var clock = Stopwatch.StartNew();
        await foreach (EncodeResult encoded in encoder.EncodeManyAsync(sources, ct))
        {
            if (encoded.Representation is { } representation) representations.Add(representation);
            else failures.Add((encoded.ImageId, encoded.Error?.Message ?? "unknown error"));
            progress.Report(representations.Count + failures.Count);
        }

        return (representations, failures, clock.Elapsed, encoder.Statistics.Snapshot().Since(before), encoder.ExecutionProvider);
    }

    /// <summary>Aggregates the kept patch vectors again with another strategy; only the cluster rows use the result.</summary>
    private static (IReadOnlyList<ImageRepresentation>, double) Reaggregate(IReadOnlyList<ImageRepresentation> encoded, IAggregator aggregator) =>
        RepresentationEvaluation.Aggregate(
            encoded.Count,
            i => (encoded[i].ImageId, new DenseEmbeddings(encoded[i].DensePatches!, encoded[i].PatchCount, encoded[i].Dimension, encoded[i].Global, encoded[i].GridWidth, encoded[i].GridHeight)),
            aggregator,
            keepDensePatches: false);
}
