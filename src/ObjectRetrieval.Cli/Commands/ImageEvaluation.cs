using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Evaluation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>The image half of <c>objret eval</c>: a COCO-format dataset encoded through the real encoder path.</summary>
internal static class ImageEvaluation
{
    public static async Task<int> RunAsync(string modelDirectory, string datasetDirectory, string? annotations, ImageCoverage coverage, ParseResult result, EvaluationOptions evaluation, CancellationToken ct)
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
        var options = new ImageEncoderOptions { KeepDensePatches = needPatches, Coverage = coverage };
        double seen = SeenShare(dataset, new ImagePreprocessor(package.Image, coverage: coverage));
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
            reports.Add(new EvaluationReport(rows.Count, aggregator.Name, aggregation.Clusters, msPerImage, scores, rows.Average(r => (double)r.CentroidCount)));
        }

        Console.WriteLine($"model {package.Name} v{package.Version}: dense head {DenseHeads.Name(package.DenseHead)}, prompt templates {package.PromptTemplateSetIdentity} ({package.PromptTemplates.Count})");
        Console.Write(EvaluationTable.Format(reports));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"coverage {(coverage == ImageCoverage.WholeImage ? "whole image" : $"model resize ({package.Image.Resize})")}: {100 * seen:F1} % of the annotated objects lie at least half inside what the model sees"));
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
                coverage = new { mode = coverage.ToString(), objectsSeenShare = seen },
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

    /// <summary>Share of the annotated objects of which at least half the box lies inside what the model sees.</summary>
    private static double SeenShare(CocoDataset dataset, ImagePreprocessor preprocessor)
    {
        var images = dataset.Images.ToDictionary(i => i.Id);
        int seen = 0, total = 0;
        foreach (CocoAnnotation a in dataset.Annotations)
        {
            if (!images.TryGetValue(a.ImageId, out CocoImage? image) || a.Bbox[2] <= 0 || a.Bbox[3] <= 0) continue;
            var (left, top, right, bottom) = preprocessor.SeenRegion(image.Width, image.Height);
            double w = Math.Max(0, Math.Min(right, a.Bbox[0] + a.Bbox[2]) - Math.Max(left, a.Bbox[0]));
            double h = Math.Max(0, Math.Min(bottom, a.Bbox[1] + a.Bbox[3]) - Math.Max(top, a.Bbox[1]));
            total++;
            if (w * h >= 0.5 * a.Bbox[2] * a.Bbox[3]) seen++;
        }

        return total == 0 ? double.NaN : (double)seen / total;
    }

    /// <summary>Aggregates the kept patch vectors again with another strategy; only the cluster rows use the result.</summary>
    private static (IReadOnlyList<ImageRepresentation>, double) Reaggregate(IReadOnlyList<ImageRepresentation> encoded, IAggregator aggregator) =>
        RepresentationEvaluation.Aggregate(
            encoded.Count,
            i => (encoded[i].ImageId, new DenseEmbeddings(encoded[i].DensePatches!, encoded[i].PatchCount, encoded[i].Dimension, encoded[i].Global, encoded[i].GridWidth, encoded[i].GridHeight)),
            aggregator,
            keepDensePatches: false);
}
