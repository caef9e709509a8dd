using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Gateway.Security;
using ObjectRetrieval.Silo;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret bench search</c>: what the cluster costs on top of the engine. The same synthetic images (K cluster
/// vectors plus the global one each, from the core's clustered generator) are searched by the core's exact
/// in-process index and, per shard count, by a real silo and gateway: through the grain fan-out directly and
/// over HTTP on loopback Kestrel. Queries run one at a time; the table gives p50/p99 and ratios to the core.
/// </summary>
internal static class BenchSearchCommand
{
    private const string IndexName = "bench";
    private const int Grid = 4;
    private const int UpsertBatch = 2_000;

    public static Command Create()
    {
        var images = new Option<int>("--images") { Description = "Images in the index.", DefaultValueFactory = _ => 100_000 };
        var queries = new Option<int>("--queries") { Description = "Timed queries per configuration (after a warm-up).", DefaultValueFactory = _ => 300 };
        var shards = new Option<string>("--shards") { Description = "Comma-separated shard counts.", DefaultValueFactory = _ => "1,8,64" };
        var dimension = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 128 };
        var clusters = new Option<int>("--clusters") { Description = "Cluster vectors per image (K); each image also has its global vector.", DefaultValueFactory = _ => 8 };
        var k = new Option<int>("--k") { Description = "Results per query.", DefaultValueFactory = _ => 10 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var command = new Command("search", "Measure search latency of the cluster (grain fan-out and HTTP, 1/8/64 shards) against the core's in-process exact search on the same data.")
        {
            images, queries, shards, dimension, clusters, k, json,
        };
        command.SetHandler(async (r, ct) =>
        {
            var settings = new Settings(
                r.GetValue(images), r.GetValue(queries),
                r.GetValue(shards)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray(),
                r.GetValue(dimension), r.GetValue(clusters), r.GetValue(k));
            if (settings.Images < 1 || settings.Queries < 1 || settings.Shards.Any(s => s < 1) || settings.K < 1 || settings.Clusters < 1)
            {
                throw new ArgumentException("--images, --queries, --shards, --clusters and --k must be positive.");
            }

            Report report = await RunAsync(settings, ct);
            Console.Write(Format(report));
            if (r.GetValue(json) is { } file)
            {
                EvaluationTable.WriteJson(file.FullName, report);
                Console.WriteLine($"results written to {file.FullName}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private sealed record Settings(int Images, int Queries, int[] Shards, int Dimension, int Clusters, int K);

    public sealed record Row(string Path, int? Shards, int Queries, double P50Ms, double P99Ms, double MeanMs, double P50VsCore, double P99VsCore);

    public sealed record Report(int Images, int Dimension, int Clusters, int K, string Codec, int Cores, double CoreBuildSeconds, IReadOnlyList<Row> Rows);

    private static async Task<Report> RunAsync(Settings s, CancellationToken ct)
    {
        Console.Error.WriteLine($"generating {s.Images} images × {s.Clusters + 1} vectors, D={s.Dimension} ...");
        (ImageRepresentation[] data, float[][] queryVectors) = Generate(s);
        int warmup = Math.Min(30, s.Queries);

        // The engine alone: the index a shard wraps, over all images, in this process.
        var clock = Stopwatch.StartNew();
        var core = new FlatVectorIndex(s.Dimension, VectorCodecKind.Int8);
        foreach (ImageRepresentation image in data)
        {
            (float[] vectors, int count) = ModeVectors.For(image, ScoringMode.Cluster, includeGlobal: true);
            core.Upsert(image.ImageId, vectors, count);
        }

        double coreBuild = clock.Elapsed.TotalSeconds;
        double[] coreTimes = Measure(queryVectors, warmup, q => core.Search(q, s.K));
        var rows = new List<Row> { ToRow("core FlatVectorIndex (in-process)", null, coreTimes, coreTimes) };

        string scratch = Path.Combine(Path.GetTempPath(), "objret-bench-search-" + Guid.NewGuid().ToString("N"));
        try
        {
            string model = Path.Combine(scratch, "model");
            DemoModelGenerator.Write(model);
            foreach (int shardCount in s.Shards)
            {
                ct.ThrowIfCancellationRequested();
                (double[] fanOut, double[] http) = await MeasureClusterAsync(s, shardCount, data, queryVectors, warmup, model, Path.Combine(scratch, $"s{shardCount}"), ct);
                rows.Add(ToRow("grain fan-out + merge (in-process client)", shardCount, fanOut, coreTimes));
                rows.Add(ToRow("HTTP POST /search (loopback Kestrel)", shardCount, http, coreTimes));
            }
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }

        return new Report(s.Images, s.Dimension, s.Clusters, s.K, "int8", Environment.ProcessorCount, coreBuild, rows);
    }

    /// <summary>One silo (index and gateway roles) with storage in a scratch folder; the index is filled straight through the shard grains.</summary>
    private static async Task<(double[] FanOut, double[] Http)> MeasureClusterAsync(
        Settings s, int shardCount, ImageRepresentation[] data, float[][] queryVectors, int warmup, string model, string storage, CancellationToken ct)
    {
        string apiKey = ApiKey.New();
        IConfiguration configuration = EmbeddedHost.Configuration(
            "objret-bench",
            ["index", "gateway"],
            model,
            storage,
            "http://127.0.0.1:0",
            new Dictionary<string, string?>
            {
                ["Gateway:ShardDeadline"] = "00:00:30",

                // The benchmark measures search, not the per-key rate limit.
                ["Gateway:RateLimit:RequestsPerSecond"] = "1000000",
                ["Gateway:RateLimit:Burst"] = "1000000",
            },
            apiKey);
        var embedder = new SyntheticQueryEmbedder(s.Dimension, queryVectors);
        await using WebApplication app = ObjectRetrievalHost.Build(configuration, services => services.AddSingleton<IQueryEmbedder>(embedder));
        await app.StartAsync(ct);
        try
        {
            using HttpClient http = EmbeddedHost.Client(app.ListeningAddress(), apiKey);
            HttpResponseMessage created = await http.PostAsJsonAsync("/api/v1/indexes", new { name = IndexName, shards = shardCount, clusters = s.Clusters }, ct);
            if (!created.IsSuccessStatusCode) throw new InvalidDataException($"Creating the index failed: {await created.Content.ReadAsStringAsync(ct)}");

            ShardFanOut fanOut = app.Services.GetRequiredService<ShardFanOut>();
            IndexDefinition index = (await app.Services.GetRequiredService<IndexCatalog>().FindAsync(IndexName))!;
            var progress = new ConsoleProgress($"upserting into {shardCount} shards", data.Length);
            int done = 0;
            foreach (ImageRepresentation[] batch in data.Chunk(UpsertBatch))
            {
                done += await fanOut.UpsertAsync(index, batch.Select(EncodedImage.From).ToArray());
                progress.Report(done);
            }

            double[] direct = await MeasureAsync(queryVectors, warmup, async q =>
            {
                SearchOutcome outcome = await fanOut.SearchAsync(index, new ShardQuery(q, s.K, ScoringMode.Cluster, null, Explain: false), ct);
                if (outcome.Partial) throw new InvalidDataException("A benchmark search was partial.");
            });
            double[] overHttp = await MeasureAsync(Enumerable.Range(0, queryVectors.Length).ToArray(), warmup, async q =>
            {
                using HttpResponseMessage response = await http.PostAsJsonAsync($"/api/v1/indexes/{IndexName}/search", new { query = SyntheticQueryEmbedder.Text(q), k = s.K, mode = "cluster" }, ct);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync(ct);
            });
            return (direct, overHttp);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Images with K cluster vectors and a global one drawn from the core's clustered generator; queries from its query stream.</summary>
    private static (ImageRepresentation[] Images, float[][] Queries) Generate(Settings s)
    {
        int perImage = s.Clusters + 1;
        var generator = new ClusteredVectorGenerator(s.Dimension, centreCount: Math.Max(16, s.Images / 100), cosine: 0.6f, seed: 7);
        var images = new ImageRepresentation[s.Images];
        var pending = new float[perImage * s.Dimension];
        int vector = 0;
        byte[] assignment = Enumerable.Range(0, Grid * Grid).Select(i => (byte)(i % s.Clusters)).ToArray();
        int[] sizes = new int[s.Clusters];
        foreach (byte a in assignment) sizes[a]++;
        generator.Generate(s.Images * perImage, ClusteredVectorGenerator.BaseStream, (vectors, count) =>
        {
            for (int i = 0; i < count; i++)
            {
                int slot = vector % perImage;
                vectors.Slice(i * s.Dimension, s.Dimension).CopyTo(pending.AsSpan(slot * s.Dimension));
                if (slot == perImage - 1)
                {
                    int image = vector / perImage;
                    images[image] = new ImageRepresentation
                    {
                        ImageId = string.Create(CultureInfo.InvariantCulture, $"img-{image:D7}"),
                        Dimension = s.Dimension,
                        Centroids = pending[..(s.Clusters * s.Dimension)],
                        CentroidCount = s.Clusters,
                        Global = pending[(s.Clusters * s.Dimension)..],
                        ClusterSizes = sizes,
                        Assignment = assignment,
                        GridWidth = Grid,
                        GridHeight = Grid,
                    };
                }

                vector++;
            }
        });
        float[] flat = generator.Generate(s.Queries, ClusteredVectorGenerator.QueryStream);
        float[][] queries = Enumerable.Range(0, s.Queries).Select(q => flat.AsSpan(q * s.Dimension, s.Dimension).ToArray()).ToArray();
        return (images, queries);
    }

    private static double[] Measure(float[][] queries, int warmup, Action<float[]> search)
    {
        for (int i = 0; i < warmup; i++) search(queries[i % queries.Length]);
        var times = new double[queries.Length];
        for (int i = 0; i < queries.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            search(queries[i]);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return times;
    }

    private static async Task<double[]> MeasureAsync<T>(T[] queries, int warmup, Func<T, Task> search)
    {
        for (int i = 0; i < warmup; i++) await search(queries[i % queries.Length]);
        var times = new double[queries.Length];
        for (int i = 0; i < queries.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await search(queries[i]);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return times;
    }

    private static Row ToRow(string path, int? shards, double[] times, double[] core)
    {
        double p50 = Percentile(times, 0.50);
        double p99 = Percentile(times, 0.99);
        return new Row(path, shards, times.Length, p50, p99, times.Average(), p50 / Percentile(core, 0.50), p99 / Percentile(core, 0.99));
    }

    private static double Percentile(double[] values, double p)
    {
        double[] sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Format(Report r)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{r.Images} images × ({r.Clusters} clusters + global), D={r.Dimension}, {r.Codec}, exact scan, k={r.K}, queries one at a time, {r.Cores} cores; core index built in {r.CoreBuildSeconds:F1} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"path",-44} {"shards",6} {"p50 ms",8} {"p99 ms",8} {"mean ms",8} {"p50/core",9} {"p99/core",9}");
        foreach (Row row in r.Rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{row.Path,-44} {(row.Shards?.ToString(CultureInfo.InvariantCulture) ?? "-"),6} {row.P50Ms,8:F2} {row.P99Ms,8:F2} {row.MeanMs,8:F2} {row.P50VsCore,9:F2} {row.P99VsCore,9:F2}");
        }

        return text.ToString();
    }


    /// <summary>Stands in for the text tower: query text "q{n}" is the n-th synthetic query vector.</summary>
    private sealed class SyntheticQueryEmbedder(int dimension, float[][] vectors) : IQueryEmbedder
    {
        public string Model => "bench-synthetic:1";

        public int Dimension => dimension;

        public static string Text(int query) => string.Create(CultureInfo.InvariantCulture, $"q{query}");

        public ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(vectors[int.Parse(query.AsSpan(1), CultureInfo.InvariantCulture)]);
    }
}
