using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Evaluation;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Gateway.Security;
using ObjectRetrieval.Silo;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret demo</c>: the whole system in one process. A silo with every role and the gateway on
/// http://127.0.0.1:5080, local-directory storage; the demo model and scenes are generated when absent, the
/// scenes go through the image encoder into the shard grains, every category is searched through the
/// gateway's HTTP API in each scoring mode, the quality table is printed, and the process serves the API and
/// the search page until Ctrl+C (or exits after the table with --no-serve).
/// </summary>
internal static class DemoCommand
{
    private const string IndexName = "demo";

    /// <summary>Images encoded and upserted together: enough in flight for the encoder to form full batches.</summary>
    private const int IngestChunk = 64;

    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "HTTP port of the gateway and the search page (loopback).", DefaultValueFactory = _ => 5080 };
        var data = new Option<DirectoryInfo>("--data") { Description = "Folder for the model, the scenes and the index.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("out", "demo")) };
        var scenes = new Option<int>("--scenes") { Description = "Scenes to generate when the folder has none (or a different number).", DefaultValueFactory = _ => 300 };
        var shards = new Option<int>("--shards") { Description = "Shards of the demo index.", DefaultValueFactory = _ => new AggregationOptions().Clusters };
        var clusters = new Option<int>("--clusters") { Description = "Clusters per image (K).", DefaultValueFactory = _ => new AggregationOptions().Clusters };
        var k = new Option<int>("--k") { Description = "Cut-off of mAP@k.", DefaultValueFactory = _ => 50 };
        var noServe = new Option<bool>("--no-serve") { Description = "Exit after printing the quality table." };
        var command = new Command("demo", "Run the whole system in one process on generated scenes: ingest, evaluate through the API, then serve the API and search page.")
        {
            port, data, scenes, shards, clusters, k, noServe,
        };

        // Synchronous, like serve: the host's console lifetime turns Ctrl+C and SIGTERM into a graceful stop.
        command.SetAction(r =>
        {
            var settings = new Settings(
                r.GetValue(data)!.FullName, r.GetValue(port), r.GetValue(scenes), r.GetValue(shards), r.GetValue(clusters), r.GetValue(k), !r.GetValue(noServe));
            try
            {
                if (settings.Port is < 0 or > 65535) throw new ArgumentException("--port must be a TCP port (0 picks a free one).");
                if (settings.Scenes < 1) throw new ArgumentException("--scenes must be at least 1.");
                if (settings.K < 1) throw new ArgumentException("--k must be at least 1.");
                return RunAsync(settings).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("cancelled.");
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (e is OptionsValidationException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                or ArgumentException or Encoding.Models.ModelPackageException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }

    private sealed record Settings(string Data, int Port, int Scenes, int Shards, int Clusters, int K, bool Serve)
    {
        public string Model => Path.Combine(Data, "model");

        public string ScenesDirectory => Path.Combine(Data, "scenes");

        public string Storage => Path.Combine(Data, "index");

        public string KeyFile => Path.Combine(Data, "api-key");
    }

    private static void WriteKeyFile(string path, string key)
    {
        File.WriteAllText(path, key + Environment.NewLine);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static async Task<int> RunAsync(Settings s)
    {
        CocoDataset dataset = PrepareInputs(s);

        // A fresh admin key per run: printed, and written (owner-only) to the data folder for the README's curl lines.
        string apiKey = ApiKey.New();
        await using WebApplication app = ObjectRetrievalHost.Build(Configuration(s, apiKey));
        await app.StartAsync();
        CancellationToken stopping = app.Lifetime.ApplicationStopping;
        WriteKeyFile(s.KeyFile, apiKey);
        Console.WriteLine($"api key: {apiKey}  (role admin; also in {s.KeyFile})");
        using HttpClient http = EmbeddedHost.Client(app.ListeningAddress(), apiKey, TimeSpan.FromMinutes(2));

        int images = await EnsureIndexAsync(http, s, stopping);
        if (images < dataset.Images.Count) images = await IngestAsync(app, s, dataset, stopping);
        else Console.WriteLine($"index '{IndexName}' already holds the {images} scenes; not ingesting again.");

        EvaluationReport report = await EvaluateAsync(app, http, s, dataset, images, stopping);
        Console.Write(EvaluationTable.Format([report]));
        Console.WriteLine("(cluster rows score the K cluster vectors and the global one, as the shards serve them; every query went through POST /api/v1/indexes/demo/search)");

        if (!s.Serve)
        {
            await app.StopAsync();
            return ExitCodes.Success;
        }

        Console.WriteLine($"search page: {app.ListeningAddress()}/#key={apiKey}   API: {app.ListeningAddress()}/api/v1/indexes/{IndexName}/search (Authorization: Bearer KEY)   Ctrl+C stops.");
        await app.ServeUntilStoppedAsync(Console.Out);
        return ExitCodes.Success;
    }

    /// <summary>Writes the demo model and scenes unless the data folder already has them (with the asked number of scenes).</summary>
    private static CocoDataset PrepareInputs(Settings s)
    {
        if (!File.Exists(Path.Combine(s.Model, "model.json")))
        {
            DemoModelGenerator.Write(s.Model);
            Console.WriteLine($"wrote the demo model to {s.Model}");
        }

        string annotations = Path.Combine(s.ScenesDirectory, SceneGenerator.AnnotationsFileName);
        if (File.Exists(annotations))
        {
            CocoDataset existing = CocoDataset.Load(annotations);
            if (existing.Images.Count == s.Scenes) return existing;
            if (Directory.Exists(s.Storage))
            {
                throw new ArgumentException(
                    $"{s.Data} holds {existing.Images.Count} scenes and an index built from them; ask for --scenes {existing.Images.Count}, or use another --data folder.");
            }
        }

        IReadOnlyList<SceneImage> written = SceneGenerator.Write(s.ScenesDirectory, new SceneOptions { Count = s.Scenes, Seed = 1 });
        Console.WriteLine($"wrote {written.Count} scenes to {s.ScenesDirectory}");
        return CocoDataset.Load(annotations);
    }

    /// <summary>One silo with every role, localhost clustering on free ports, storage in the data folder, the scenes readable by the gateway.</summary>
    private static IConfiguration Configuration(Settings s, string apiKey) => EmbeddedHost.Configuration(
        "objret-demo",
        roles: null,
        s.Model,
        s.Storage,
        string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{s.Port}"),
        new Dictionary<string, string?>
        {
            ["Gateway:FileRoots:0"] = s.ScenesDirectory,

            // The evaluation sends every category in three modes at once; the per-key limit is for callers, not this loop.
            ["Gateway:RateLimit:RequestsPerSecond"] = "1000",
            ["Gateway:RateLimit:Burst"] = "1000",
        },
        apiKey);

    /// <summary>Creates the index through the API (idempotent); returns how many images it already holds.</summary>
    private static async Task<int> EnsureIndexAsync(HttpClient http, Settings s, CancellationToken ct)
    {
        // Dense patches are kept so the table's dense row (the accuracy ceiling) comes from the shards too.
        HttpResponseMessage created = await http.PostAsJsonAsync("/api/v1/indexes", new { name = IndexName, shards = s.Shards, clusters = s.Clusters, keepDense = true }, ct);
        if (created.StatusCode == HttpStatusCode.Conflict)
        {
            throw new ArgumentException($"{s.Storage} holds an index '{IndexName}' with other settings; use the same --shards and --clusters, or another --data folder.");
        }

        await EnsureSuccessAsync(created, "creating the index", ct);
        IndexSummary summary = (await http.GetFromJsonAsync<IndexSummary>($"/api/v1/indexes/{IndexName}", ct))!;
        return summary.Images;
    }

    /// <summary>Every scene through the image encoder (batched across the chunk) and into its shard grain.</summary>
    private static async Task<int> IngestAsync(WebApplication app, Settings s, CocoDataset dataset, CancellationToken ct)
    {
        var encoder = (ImageTowerEncoderService)app.Services.GetRequiredService<IImageEncoderService>();
        ShardFanOut fanOut = app.Services.GetRequiredService<ShardFanOut>();
        IndexDefinition index = (await app.Services.GetRequiredService<IndexCatalog>().FindAsync(IndexName))!;
        var progress = new ConsoleProgress("ingesting", dataset.Images.Count);
        var failures = new List<string>();
        int stored = 0;
        int done = 0;
        foreach (CocoImage[] chunk in dataset.Images.Chunk(IngestChunk))
        {
            ImageRepresentation?[] encoded = await Task.WhenAll(chunk.Select(async image =>
            {
                string path = Path.Combine(s.ScenesDirectory, image.FileName);
                try
                {
                    byte[] bytes = await File.ReadAllBytesAsync(path, ct);
                    return await encoder.EncodeAsync(RetrievalEvaluator.ImageKey(image.Id), bytes, path, index.AggregationSettings, index.KeepDense, ct);
                }
                catch (Exception e) when (e is ArgumentException or IOException)
                {
                    lock (failures) failures.Add($"{image.FileName}: {e.Message}");
                    return null;
                }
                finally
                {
                    progress.Report(Interlocked.Increment(ref done));
                }
            }));
            EncodedImage[] batch = encoded.OfType<ImageRepresentation>().Select(EncodedImage.From).ToArray();
            if (batch.Length > 0) stored += await fanOut.UpsertAsync(index, batch);
        }

        Console.WriteLine($"ingested {stored} images into '{IndexName}' ({index.ShardCount} shards, K={index.Clusters}); {failures.Count} refused.");
        foreach (string failure in failures.Take(10)) Console.WriteLine("  " + failure);
        return stored;
    }

    /// <summary>Each category name searched through the HTTP API in each mode, scored by the core's evaluator.</summary>
    private static async Task<EvaluationReport> EvaluateAsync(WebApplication app, HttpClient http, Settings s, CocoDataset dataset, int images, CancellationToken ct)
    {
        QueryEmbeddingCache embeddings = app.Services.GetRequiredService<QueryEmbeddingCache>();
        var queries = new List<EvaluationQuery>();
        foreach (CocoCategory category in dataset.Categories)
        {
            // The vector the gateway itself uses for this text (it is cached there): it keys the rankings below.
            queries.Add(new EvaluationQuery(category.Id, category.Name, await embeddings.EmbedAsync(category.Name, ct)));
        }

        IndexSummary summary = (await http.GetFromJsonAsync<IndexSummary>($"/api/v1/indexes/{IndexName}", ct))!;
        var evaluator = new RetrievalEvaluator(dataset, s.K);
        int depth = Math.Clamp(images, 1, Gateway.Api.SearchApi.MaxK);
        var scores = new List<ModeScore>();
        foreach (ScoringMode mode in new[] { ScoringMode.Global, ScoringMode.Cluster, ScoringMode.Dense })
        {
            string modeName = mode.ToString().ToLowerInvariant();
            var rankings = new GatewayRankings(embeddings.Embedder.Dimension, images, summary.MemoryBytes(mode));
            foreach (EvaluationQuery query in queries)
            {
                HttpResponseMessage response = await http.PostAsJsonAsync($"/api/v1/indexes/{IndexName}/search", new { query = query.Name, k = depth, mode = modeName }, ct);
                await EnsureSuccessAsync(response, $"searching '{query.Name}' ({modeName})", ct);
                SearchAnswer answer = (await response.Content.ReadFromJsonAsync<SearchAnswer>(ct))!;
                if (answer.Partial) throw new InvalidDataException($"The search for '{query.Name}' was partial; shards {string.Join(", ", answer.MissingShards)} did not answer.");
                rankings.Add(query.Vector, answer.Hits.Select(h => new SearchHit(h.ImageId, h.Score, 0)).ToArray());
            }

            scores.Add(evaluator.Evaluate(modeName, rankings, queries));
        }

        ImageTowerEncoderService encoder = (ImageTowerEncoderService)app.Services.GetRequiredService<IImageEncoderService>();
        EncoderStatsSnapshot stats = encoder.Statistics();
        double msPerImage = stats.ImagesEncoded == 0 ? double.NaN : stats.AggregationSeconds * 1000 / stats.ImagesEncoded;
        IndexDefinition index = (await app.Services.GetRequiredService<IndexCatalog>().FindAsync(IndexName))!;
        return new EvaluationReport(images, index.AggregationSettings.CreateAggregator().Name, index.Clusters, msPerImage, scores);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        string body = await response.Content.ReadAsStringAsync(ct);
        throw new InvalidDataException($"The gateway refused {what}: {(int)response.StatusCode} {body}");
    }


    private sealed record IndexSummary(int Images, IReadOnlyList<ShardSummary> Shards)
    {
        public long MemoryBytes(ScoringMode mode) => Shards.Sum(s => s.MemoryByMode?.For(mode) ?? 0);
    }

    private sealed record ShardSummary(ModeMemory? MemoryByMode);

    private sealed record SearchAnswer(IReadOnlyList<HitAnswer> Hits, bool Partial, IReadOnlyList<string> MissingShards);

    private sealed record HitAnswer(string ImageId, float Score);

    /// <summary>
    /// The gateway's answers presented as an index to the core's evaluator: a search returns the ranking the
    /// gateway gave for that query vector, so the evaluator's metrics apply unchanged.
    /// </summary>
    private sealed class GatewayRankings(int dimension, int imageCount, long memoryBytes) : IVectorIndexReader
    {
        private readonly List<(float[] Vector, SearchHit[] Hits)> _rankings = [];

        public int Dimension => dimension;

        public int ImageCount => imageCount;

        public long VectorCount => 0;

        public long MemoryBytes => memoryBytes;

        public void Add(float[] vector, SearchHit[] hits) => _rankings.Add((vector, hits));

        public bool Contains(string imageId) => _rankings.Any(r => r.Hits.Any(h => h.ImageId == imageId));

        public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null)
        {
            foreach ((float[] vector, SearchHit[] hits) in _rankings)
            {
                if (query.SequenceEqual(vector)) return hits.Length <= k ? hits : hits[..k];
            }

            throw new InvalidOperationException("No gateway ranking was recorded for this query.");
        }
    }
}
