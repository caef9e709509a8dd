using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Inference;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret bench encode</c>: images per second of the full pipelined path (decode → infer → aggregate)
/// against bare inference on pre-decoded batches, their ratio, and the time split, in one run.
/// </summary>
internal static class BenchEncodeCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model package folder (model.json).", Required = true };
        var dataset = new Option<DirectoryInfo>("--dataset") { Description = "Folder of images (e.g. from gen-scenes).", Required = true };
        var count = new Option<int>("--count") { Description = "Images to encode (read into memory first).", DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { Description = "Views per inference call.", DefaultValueFactory = _ => 16 };
        var imageSize = new Option<int?>("--image-size") { Description = "Input side (default: the package's)." };
        var decodeWorkers = new Option<int>("--decode-workers") { Description = "Parallel decoders (default: half the cores).", DefaultValueFactory = _ => new ImageEncoderOptions().DecodeWorkers };
        var clusters = new Option<int>("--clusters") { Description = "K of the aggregation (the default strategy).", DefaultValueFactory = _ => new AggregationOptions().Clusters };
        var provider = new Option<string>("--provider") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };

        var command = new Command("encode", "Measure image encoding: full pipelined path vs bare inference on pre-decoded batches.")
        {
            model, dataset, count, batch, imageSize, decodeWorkers, clusters, provider,
        };
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            try
            {
                var settings = new Settings(
                    r.GetValue(model)!.FullName, r.GetValue(dataset)!.FullName, Math.Max(1, r.GetValue(count)), Math.Max(1, r.GetValue(batch)),
                    r.GetValue(imageSize), Math.Max(1, r.GetValue(decodeWorkers)), r.GetValue(clusters),
                    Enum.Parse<ExecutionProviderPreference>(r.GetValue(provider)!, ignoreCase: true));
                await RunAsync(settings, ct);
                return 0;
            }
            catch (Exception e) when (e is ModelPackageException or DirectoryNotFoundException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private sealed record Settings(string Model, string Dataset, int Count, int Batch, int? ImageSize, int DecodeWorkers, int Clusters, ExecutionProviderPreference Provider);

    private static async Task RunAsync(Settings s, CancellationToken ct)
    {
        ModelPackage package = ModelPackage.Load(s.Model);
        List<(string Id, byte[] Bytes)> images = Directory.EnumerateFiles(s.Dataset)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Take(s.Count)
            .Select(f => (Path.GetFileNameWithoutExtension(f), File.ReadAllBytes(f)))
            .ToList();
        if (images.Count == 0) throw new ArgumentException($"No images in {s.Dataset}.");

        var options = new ImageEncoderOptions
        {
            MaxBatchSize = s.Batch,
            ImageSize = s.ImageSize,
            DecodeWorkers = s.DecodeWorkers,
            Inference = new InferenceOptions { Provider = s.Provider },
        };
        var aggregator = new AggregationOptions { Clusters = s.Clusters }.CreateAggregator();
        await using ImageEncoder encoder = ImageEncoder.Create(package, options, aggregator);
        Console.WriteLine(
            $"model {package.Name} v{package.Version}: input {encoder.ImageSize} px, {encoder.GridSize}×{encoder.GridSize} patches, D={encoder.Dimension}; " +
            $"{encoder.ExecutionProvider}; {Environment.ProcessorCount} cores; batch {s.Batch}; decode workers {s.DecodeWorkers}; {images.Count} images");

        // Warm-up: first calls pay for JIT, ONNX Runtime arenas and Skia caches.
        foreach ((string id, byte[] bytes) in images.Take(Math.Min(8, images.Count))) await encoder.EncodeAsync(bytes, id, ct);

        // 1. Full path, pipelined.
        EncoderStatsSnapshot before = encoder.Statistics.Snapshot();
        long start = Stopwatch.GetTimestamp();
        int failed = 0;
        await foreach (EncodeResult result in encoder.EncodeManyAsync(images.Select(i => ImageSource.FromBytes(i.Id, i.Bytes)), ct))
        {
            if (!result.Succeeded) failed++;
        }

        double fullSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        EncoderStatsSnapshot full = encoder.Statistics.Snapshot().Since(before);

        // 2. Decode alone (one thread), producing the pre-decoded batches for step 3.
        start = Stopwatch.GetTimestamp();
        var decoded = new List<float[]>();
        int valuesPerView = 3 * encoder.ImageSize * encoder.ImageSize;
        var pending = new List<PreprocessedImage>();
        foreach ((_, byte[] bytes) in images)
        {
            try
            {
                pending.Add(encoder.Preprocessor.Preprocess(bytes));
            }
            catch (ImageDecodeException)
            {
                continue;
            }

            int views = pending.Sum(p => p.ViewCount);
            if (views >= s.Batch) decoded.Add(Assemble(pending, valuesPerView));
        }

        if (pending.Count > 0) decoded.Add(Assemble(pending, valuesPerView));
        double decodeSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        // 3. Bare inference on the pre-decoded batches.
        start = Stopwatch.GetTimestamp();
        int inferredViews = 0;
        foreach (float[] pixels in decoded)
        {
            int views = pixels.Length / valuesPerView;
            using ImageTowerOutput output = encoder.Tower.Run(pixels, views);
            inferredViews += views;
        }

        double bareSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        double fullRate = (images.Count - failed) / fullSeconds;
        double bareRate = inferredViews / bareSeconds;
        double decodeRate = inferredViews / decodeSeconds;
        int encoded = images.Count - failed;
        Console.WriteLine();
        Console.WriteLine(Line("full path (decode → infer → aggregate)", fullRate, $"{encoded} images in {fullSeconds:F2} s, {failed} refused, mean batch {full.MeanBatchViews:F1} views"));
        Console.WriteLine(Line("bare inference, pre-decoded batches", bareRate, $"{inferredViews} views in {bareSeconds:F2} s"));
        Console.WriteLine(Line("decode alone, one thread", decodeRate, $"{inferredViews} images in {decodeSeconds:F2} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio full / bare inference: {fullRate / bareRate:F2}"));

        // When decoding costs more than inference (small models), the full path cannot reach bare inference;
        // these two say how well the stages overlap: against running them one after the other, and against
        // the slower stage alone (perfect overlap).
        double serialRate = 1 / (1 / decodeRate + 1 / bareRate);
        double overlappedRate = Math.Min(decodeRate * s.DecodeWorkers, bareRate);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ratio full / serial (decode then infer): {fullRate / serialRate:F2}; full / slower stage alone: {fullRate / overlappedRate:F2}"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"time split of the full path, summed over workers, ms per image: decode {Ms(full.DecodeSeconds, encoded)}, " +
            $"inference {Ms(full.InferenceSeconds, encoded)}, aggregation {Ms(full.AggregationSeconds, encoded)}; wall {Ms(fullSeconds, encoded)}"));
    }

    private static float[] Assemble(List<PreprocessedImage> pending, int valuesPerView)
    {
        float[] pixels = new float[pending.Sum(p => p.ViewCount) * valuesPerView];
        int offset = 0;
        foreach (PreprocessedImage image in pending)
        {
            image.Pixels.CopyTo(pixels.AsSpan(offset));
            offset += image.Pixels.Length;
            image.Dispose();
        }

        pending.Clear();
        return pixels;
    }

    private static string Line(string what, double rate, string detail) =>
        string.Create(CultureInfo.InvariantCulture, $"{what,-42} {rate,8:F1} images/s   ({detail})");

    private static string Ms(double seconds, int images) => (seconds * 1000 / Math.Max(1, images)).ToString("F2", CultureInfo.InvariantCulture);
}
