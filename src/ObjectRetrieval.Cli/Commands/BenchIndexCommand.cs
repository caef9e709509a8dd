using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Codecs;
using ObjectRetrieval.Core.Index.Compressed;
using ObjectRetrieval.Core.IO;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret bench index</c>: image recall@k, per-query latency and memory of the exact scan, of IVF
/// settings and of the compressed index (product codes + int8 re-rank from a mapped file) on one
/// base/query set; K consecutive rows form one image (image number = row / K), ground truth is exact
/// MaxSim over the float vectors.
/// </summary>
internal static class BenchIndexCommand
{
    private const int WarmupQueries = 20;

    public static Command Create()
    {
        var baseFile = new Option<FileInfo>("--base") { Description = "Base vectors (.fvecs or .npy).", Required = true };
        var queryFile = new Option<FileInfo>("--queries") { Description = "Query vectors (.fvecs or .npy).", Required = true };
        var gtFile = new Option<FileInfo?>("--gt") { Description = "Ground truth (.ivecs, row numbers best first). Computed exactly in float32 and saved next to the queries when absent." };
        var k = new Option<int>("--k") { Description = "Results per query (recall@k).", DefaultValueFactory = _ => 10 };
        var codec = new Option<string>("--codec") { Description = "Vector codes: int8, fp16, f32 (exact scan and IVF), or the compressed index's product codes: pqM with 8 bits per sub-quantiser (pq16, pq32, pq64) or pqMx4 with 4-bit fast scan (pq32x4, pq64x4, pq128x4); these re-rank on int8 codes from a mapped file.", DefaultValueFactory = _ => "int8" };
        var ivf = new Option<int>("--ivf") { Description = "IVF lists (int8/fp16/f32: also build an IVF index, 0 = exact scan only; pq codecs: the model's lists, 0 = 1024).", DefaultValueFactory = _ => 0 };
        var nprobe = new Option<string>("--nprobe") { Description = "Comma-separated nprobe values to measure.", DefaultValueFactory = _ => "1,2,4,8,16" };
        var perImage = new Option<int>("--vectors-per-image") { Description = "Consecutive base rows that form one image (K); recall is image recall against exact MaxSim.", DefaultValueFactory = _ => 1 };
        var rerank = new Option<string>("--rerank") { Description = "pq codecs: comma-separated re-rank depths (candidate rows scored exactly on int8 codes).", DefaultValueFactory = _ => "100" };
        var trainSample = new Option<int>("--train-sample") { Description = "pq codecs: vectors sampled for the IVF k-means of the model (then --refine passes over all vectors, then the codebooks).", DefaultValueFactory = _ => 131_072 };
        var modelFile = new Option<FileInfo?>("--model") { Description = "pq codecs: index model file; loaded when it exists (no training), else trained and saved there." };
        var maxQueries = new Option<int>("--max-queries") { Description = "Use only the first N queries of the file (0: all).", DefaultValueFactory = _ => 0 };
        var workDir = new Option<DirectoryInfo?>("--work-dir") { Description = "pq codecs: folder for the re-rank code file and the model (default: next to the base file)." };
        var threads = new Option<int>("--threads") { Description = "Threads issuing queries (latency is per query either way).", DefaultValueFactory = _ => 1 };
        var exactQueries = new Option<int>("--exact-queries") { Description = "Queries timed on the exact scan baseline (it is slow).", DefaultValueFactory = _ => 100 };
        var samplesPerList = new Option<int>("--train-per-list") { Description = "IVF training sample: vectors per list.", DefaultValueFactory = _ => new IvfOptions().TrainingSamplesPerList };
        var refine = new Option<int>("--refine") { Description = "IVF k-means passes over all vectors after sample training.", DefaultValueFactory = _ => new IvfOptions().RefinementPasses };
        var seed = new Option<int>("--seed") { Description = "IVF training seed.", DefaultValueFactory = _ => 1 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };

        var index = new Command("index", "Measure the shard index: recall@k, latency, QPS, build time and bytes per vector.")
        {
            baseFile, queryFile, gtFile, k, codec, ivf, nprobe, threads, exactQueries, samplesPerList, refine, seed, json, perImage, rerank, trainSample, workDir, maxQueries, modelFile,
        };
        index.SetAction((ParseResult r, CancellationToken ct) => Task.FromResult(Execute(r, ct)));
        return index;

        int Execute(ParseResult r, CancellationToken ct)
        {
            try
            {
                string codecName = r.GetValue(codec)!;
                (int SubQuantizers, int Bits)? product = IndexModelOptions.ParseCodec(codecName);
                var settings = new Settings(
                    r.GetValue(baseFile)!.FullName, r.GetValue(queryFile)!.FullName, r.GetValue(gtFile)?.FullName,
                    r.GetValue(k), product is null ? VectorCodecs.Parse(codecName) : VectorCodecKind.Int8, r.GetValue(ivf),
                    IntList(r.GetValue(nprobe)!, "--nprobe"),
                    Math.Max(1, r.GetValue(threads)), Math.Max(1, r.GetValue(exactQueries)), r.GetValue(samplesPerList), r.GetValue(refine), r.GetValue(seed),
                    r.GetValue(perImage), codecName.Trim().ToLowerInvariant(), product, IntList(r.GetValue(rerank)!, "--rerank"), r.GetValue(trainSample),
                    r.GetValue(workDir)?.FullName, r.GetValue(maxQueries), r.GetValue(modelFile)?.FullName);
                if (settings.VectorsPerImage < 1) throw new ArgumentException("--vectors-per-image must be at least 1.");
                BenchReport report = Run(settings, ct);
                if (r.GetValue(json) is { } jsonFile)
                {
                    File.WriteAllText(jsonFile.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
                    Console.WriteLine($"results written to {jsonFile.FullName}");
                }

                return 0;
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        }
    }

    internal sealed record Settings(
        string BasePath, string QueryPath, string? GroundTruthPath, int K, VectorCodecKind Codec, int IvfLists,
        int[] NProbes, int Threads, int ExactQueries, int TrainPerList, int Refine, int Seed,
        int VectorsPerImage, string CodecName, (int SubQuantizers, int Bits)? Product, int[] RerankDepths, int TrainSample, string? WorkDir, int MaxQueries, string? ModelPath);

    public sealed record BenchReport(
        string Base, string Queries, int BaseCount, int QueryCount, int Dimension, int K, string Codec, int Threads,
        double GroundTruthSeconds, IReadOnlyList<BenchRow> Rows, int VectorsPerImage = 1, int ImageCount = 0);

    /// <summary>One measured setting. RAM figures are resident bytes (all the index holds) ÷ vectors and ÷ images; disk: re-rank file plus persisted product codes and lists.</summary>
    public sealed record BenchRow(
        string Index, int? NProbe, int QueriesTimed, double RecallAtK, double MeanMs, double P50Ms, double P99Ms, double Qps,
        double BuildSeconds, double TrainSeconds, double CodeBytesPerVector, double TotalBytesPerVector, double SpeedupVsExact,
        int? RerankDepth = null, double? RamBytesPerImage = null, double? DiskBytesPerImage = null, double? RerankBytesPerQuery = null, double? CodesScannedPerQuery = null);

    private static int[] IntList(string text, string option)
    {
        try
        {
            int[] values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return values.Length > 0 && values.All(v => v > 0) ? values : throw new ArgumentException($"{option} needs positive integers, e.g. 8,16.");
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{option}: '{text}' is not a comma-separated list of integers.");
        }
    }

    private static BenchReport Run(Settings s, CancellationToken ct)
    {
        if (s.K <= 0) throw new ArgumentException("--k must be at least 1.");
        VectorSet<float>? baseSet = VectorFiles.Load(s.BasePath);
        VectorSet<float> queries = VectorFiles.Load(s.QueryPath);
        if (s.MaxQueries > 0 && s.MaxQueries < queries.Count) queries = new VectorSet<float>(queries.Data[..(s.MaxQueries * queries.Dimension)], s.MaxQueries, queries.Dimension);
        if (baseSet.Dimension != queries.Dimension)
        {
            throw new InvalidDataException($"dimension mismatch: {s.BasePath} holds {baseSet.Dimension}-dimensional vectors, {s.QueryPath} holds {queries.Dimension}.");
        }

        if (baseSet.Count < s.K) throw new InvalidDataException($"{s.BasePath}: {baseSet.Count} vectors, fewer than k = {s.K}.");
        int dim = baseSet.Dimension;
        int baseCount = baseSet.Count;
        int perImage = s.VectorsPerImage;
        if (baseCount % perImage != 0) throw new InvalidDataException($"{s.BasePath}: {baseCount} vectors are not whole images of {perImage} vectors.");
        int imageCount = baseCount / perImage;
        if (imageCount < s.K) throw new InvalidDataException($"{s.BasePath}: {imageCount} images, fewer than k = {s.K}.");
        Console.WriteLine($"base {s.BasePath}: {baseCount} × {dim} ({imageCount} images × {perImage}); queries {s.QueryPath}: {queries.Count}; k = {s.K}; codec {s.CodecName}; {s.Threads} thread(s)");

        var clock = Stopwatch.StartNew();
        int[] truth = GroundTruth(s, baseSet, queries);
        double truthSeconds = clock.Elapsed.TotalSeconds;
        int truthColumns = truth.Length / queries.Count;
        if (s.Product is not null)
        {
            List<BenchRow> compressed = CompressedIndexBench.Run(s, ref baseSet, queries, truth, truthColumns, ct);
            Print(compressed, s.K);
            return new BenchReport(s.BasePath, s.QueryPath, baseCount, queries.Count, dim, s.K, s.CodecName, s.Threads, truthSeconds, compressed, perImage, imageCount);
        }

        clock.Restart();
        var flat = new FlatVectorIndex(dim, s.Codec);
        for (int i = 0; i < imageCount; i++) flat.Upsert(Id(i), baseSet.Data.AsSpan(i * perImage * dim, perImage * dim), perImage);
        double flatBuild = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"exact {s.Codec} index built in {flatBuild:F1} s");

        IvfVectorIndex? ivf = null;
        double ivfBuild = 0, ivfTrain = 0;
        if (s.IvfLists > 0)
        {
            clock.Restart();
            ivf = new IvfVectorIndex(dim, s.Codec, new IvfOptions { ListCount = s.IvfLists, TrainingSamplesPerList = s.TrainPerList, RefinementPasses = s.Refine, Seed = s.Seed });
            for (int i = 0; i < imageCount; i++) ivf.Upsert(Id(i), baseSet.Data.AsSpan(i * perImage * dim, perImage * dim), perImage);
            ivfBuild = clock.Elapsed.TotalSeconds;
            clock.Restart();
            ivf.Train();
            ivfTrain = clock.Elapsed.TotalSeconds;
            int[] sizes = ivf.ListSizes();
            Console.WriteLine($"IVF{ivf.ListCount} built: add {ivfBuild:F1} s, train + assign {ivfTrain:F1} s; list sizes min {sizes.Min()}, mean {sizes.Average():F0}, max {sizes.Max()}");
        }

        // The float copy is no longer needed: release it before timing.
        baseSet = null;
        GC.Collect();

        var rows = new List<BenchRow>();
        int exactCount = Math.Min(s.ExactQueries, queries.Count);
        Timing exact = Measure(flat, queries, exactCount, s, truth, truthColumns, null, ct);
        rows.Add(Row($"exact-{s.Codec}", null, exact, flatBuild, 0, flat.CodeBytesPerVector, flat.MemoryBytes, baseCount, exact.MeanMs));
        flat = null;
        GC.Collect();

        if (ivf is not null)
        {
            foreach (int nprobe in s.NProbes)
            {
                Timing t = Measure(ivf, queries, queries.Count, s, truth, truthColumns, new SearchOptions(nprobe), ct);
                rows.Add(Row($"IVF{ivf.ListCount}-{s.Codec}", nprobe, t, ivfBuild, ivfTrain, ivf.CodeBytesPerVector, ivf.MemoryBytes, baseCount, exact.MeanMs));
            }
        }

        Print(rows, s.K);
        return new BenchReport(s.BasePath, s.QueryPath, baseCount, queries.Count, dim, s.K, s.Codec.ToString(), s.Threads, truthSeconds, rows, perImage, imageCount);
    }

    private static int[] GroundTruth(Settings s, VectorSet<float> baseSet, VectorSet<float> queries)
    {
        string path = s.GroundTruthPath ?? Path.Combine(
            Path.GetDirectoryName(s.QueryPath) ?? ".",
            s.VectorsPerImage == 1
                ? $"{Path.GetFileNameWithoutExtension(s.QueryPath)}.{Path.GetFileNameWithoutExtension(s.BasePath)}.gt{s.K}.ivecs"
                : $"{Path.GetFileNameWithoutExtension(s.QueryPath)}.{Path.GetFileNameWithoutExtension(s.BasePath)}.k{s.VectorsPerImage}.maxsim-gt{s.K}.ivecs");
        // A truth file may hold more queries than are used (--max-queries): its first rows are theirs.
        if (s.GroundTruthPath is not null && !File.Exists(path)) throw new FileNotFoundException($"{path}: ground-truth file not found.", path);
        if (File.Exists(path))
        {
            VectorSet<int> gt = VectorFiles.ReadIvecs(path);
            if (gt.Count < queries.Count || gt.Dimension < s.K)
            {
                throw new InvalidDataException($"{path}: ground truth has {gt.Count} rows of {gt.Dimension}; need {queries.Count} rows of at least k = {s.K}.");
            }

            Console.WriteLine($"ground truth read from {path}");
            return gt.Data[..(queries.Count * gt.Dimension)];
        }

        var clock = Stopwatch.StartNew();
        int[] truth = s.VectorsPerImage == 1
            ? ExactNeighbours.Compute(baseSet.Data, baseSet.Count, queries.Data, queries.Count, baseSet.Dimension, s.K)
            : ExactMaxSim.Compute(baseSet.Data, baseSet.Count / s.VectorsPerImage, s.VectorsPerImage, queries.Data, queries.Count, baseSet.Dimension, s.K);
        VectorFiles.WriteIvecs(path, truth, s.K);
        Console.WriteLine($"ground truth (exact MaxSim, float32) computed in {clock.Elapsed.TotalSeconds:F1} s, saved to {path}");
        return truth;
    }

    private readonly record struct Timing(int Queries, double Recall, double MeanMs, double P50Ms, double P99Ms, double Qps);

    private static Timing Measure(IVectorIndexReader index, VectorSet<float> queries, int count, Settings s, int[] truth, int truthColumns, SearchOptions? options, CancellationToken ct)
    {
        int k = s.K;
        for (int q = 0; q < Math.Min(WarmupQueries, count); q++) index.Search(queries.Row(q), k, options);

        double[] latencies = new double[count];
        int[] found = new int[count * k];
        found.AsSpan().Fill(-1);
        long start = Stopwatch.GetTimestamp();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = s.Threads, CancellationToken = ct }, q =>
        {
            long t0 = Stopwatch.GetTimestamp();
            IReadOnlyList<SearchHit> hits = index.Search(queries.Row(q), k, options);
            latencies[q] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            for (int i = 0; i < hits.Count; i++) found[q * k + i] = int.Parse(hits[i].ImageId, CultureInfo.InvariantCulture);
        });
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        return new Timing(
            count,
            ExactNeighbours.Recall(truth, truthColumns, found, k, count, k),
            latencies.Average(),
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99),
            count / wall);
    }

    private static BenchRow Row(string name, int? nprobe, Timing t, double build, double train, int codeBytes, long memoryBytes, int vectors, double exactMeanMs) =>
        new(name, nprobe, t.Queries, t.Recall, t.MeanMs, t.P50Ms, t.P99Ms, t.Qps, build, train, codeBytes, (double)memoryBytes / vectors, exactMeanMs / t.MeanMs);

    internal static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static void Print(List<BenchRow> rows, int k)
    {
        Console.WriteLine();
        if (rows.Any(r => r.RerankDepth is not null))
        {
            Console.WriteLine($"{"index",-22} {"nprobe",6} {"rerank",6} {"recall@" + k,9} {"mean ms",8} {"p50 ms",8} {"p99 ms",8} {"build s",8} {"train s",8} {"RAM B/vec",9} {"RAM B/img",9} {"disk B/img",10} {"codes/q",9} {"rerank KB/q",11}");
            foreach (BenchRow r in rows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Index,-22} {r.NProbe,6} {r.RerankDepth,6} {r.RecallAtK,9:F4} {r.MeanMs,8:F3} {r.P50Ms,8:F3} {r.P99Ms,8:F3} {r.BuildSeconds,8:F1} {r.TrainSeconds,8:F1} {r.TotalBytesPerVector,9:F1} {r.RamBytesPerImage,9:F0} {r.DiskBytesPerImage,10:F0} {r.CodesScannedPerQuery,9:F0} {r.RerankBytesPerQuery / 1024,11:F1}"));
            }

            Console.WriteLine("RAM: everything the index holds resident (lists of codes and row numbers, image table, tombstones, model) ÷ vectors or images; disk: mapped re-rank codes + persisted product codes and lists; rerank KB/q: mapped bytes read per query.");
            return;
        }

        Console.WriteLine($"{"index",-18} {"nprobe",6} {"queries",7} {"recall@" + k,9} {"mean ms",8} {"p50 ms",8} {"p99 ms",8} {"QPS",9} {"build s",8} {"train s",8} {"B/vec",6} {"all B/vec",9} {"× exact",8}");
        foreach (BenchRow r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Index,-18} {(r.NProbe?.ToString(CultureInfo.InvariantCulture) ?? "-"),6} {r.QueriesTimed,7} {r.RecallAtK,9:F4} {r.MeanMs,8:F3} {r.P50Ms,8:F3} {r.P99Ms,8:F3} {r.Qps,9:F0} {r.BuildSeconds,8:F1} {r.TrainSeconds,8:F1} {r.CodeBytesPerVector,6:F0} {r.TotalBytesPerVector,9:F0} {r.SpeedupVsExact,8:F1}"));
        }

        Console.WriteLine("B/vec: codes + scale + row id in the index; all B/vec: every byte of the index (ids, id map, centroids) per vector.");
    }

    private static string Id(int row) => row.ToString(CultureInfo.InvariantCulture);
}
