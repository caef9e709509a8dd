using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Models;
using ObjectRetrieval.Silo;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>
/// <c>objret ingest</c>: a job through a gateway (<c>--gateway URL --index NAME --container C [--prefix P]</c>) or an
/// embedded one-process cluster over a directory (<c>--dir PATH --model DIR --data DIR</c>), with a live progress
/// line and a final summary. <c>objret bench ingest</c> compares the embedded cluster path with the bare encoder.
/// </summary>
internal static class IngestCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var gateway = new Option<string?>("--gateway") { Description = "Gateway base URL (http://127.0.0.1:5080)." };
        var apiKey = new Option<string?>("--api-key") { Description = $"API key with the writer role for --gateway (default: the {ApiKeyVariable} environment variable)." };
        var index = new Option<string>("--index") { Description = "Index to ingest into.", Required = true };
        var container = new Option<string?>("--container") { Description = "Blob container (in the account the silos read)." };
        var prefix = new Option<string?>("--prefix") { Description = "Blob name prefix." };
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "Directory to ingest with an embedded one-process cluster." };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model package (embedded run)." };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Where the embedded run keeps its index (default: ./objret-data)." };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch (64–512).", DefaultValueFactory = _ => 256 };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Images above this size are recorded as TooLarge.", DefaultValueFactory = _ => IngestJobOptions.Default.MaxBytes };
        var command = new Command("ingest", "Ingest a blob container (through a gateway) or a directory (embedded) into an index, with live progress.")
        {
            gateway, apiKey, index, container, prefix, dir, model, data, batch, maxBytes,
        };
        command.SetHandler(async (r, ct) =>
        {
            var options = IngestJobOptions.Default with { BatchSize = r.GetValue(batch), MaxBytes = r.GetValue(maxBytes) };
            if (options.Problem() is { } problem) throw new ArgumentException(problem);
            if (r.GetValue(dir) is { } directory)
            {
                DirectoryInfo modelDir = r.GetValue(model) ?? throw new ArgumentException("--dir needs --model (the model package folder).");
                IngestJobStatus status = await RunEmbeddedAsync(directory, modelDir, r.GetValue(data) ?? new DirectoryInfo("objret-data"), r.GetValue(index)!, options, ct);
                return status.Phase == IngestJobPhase.Completed ? ExitCodes.Success : ExitCodes.Failure;
            }

            if (!Uri.TryCreate(r.GetValue(gateway), UriKind.Absolute, out Uri? url)) throw new ArgumentException("Name --gateway URL (absolute) with --container, or --dir PATH for an embedded run.");
            string c = r.GetValue(container) ?? throw new ArgumentException("--gateway needs --container.");
            string key = r.GetValue(apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable)
                ?? throw new ArgumentException($"--gateway needs an API key with the writer role: --api-key KEY or {ApiKeyVariable}.");
            return await RunThroughGatewayAsync(url, key, r.GetValue(index)!, c, r.GetValue(prefix), options, ct);
        });
        return command;
    }

    public static Command CreateBench()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model package folder.", Required = true };
        var dataset = new Option<DirectoryInfo>("--dataset") { Description = "Folder of images (e.g. from gen-scenes).", Required = true };
        var command = new Command("ingest", "Images per second through the cluster path (embedded silo: job, workers, shards) against the bare encoder over the same images, in one run.")
        {
            model, dataset,
        };
        command.SetHandler(async (r, ct) =>
        {
            DirectoryInfo images = r.GetValue(dataset)!;
            ModelPackage package = ModelPackage.Load(r.GetValue(model)!.FullName);
            string[] files = Directory.EnumerateFiles(images.FullName, "*", SearchOption.AllDirectories)
                .Where(f => IngestJobOptions.Default.Accepts(f)).Order(StringComparer.Ordinal).ToArray();

            // Bare pipeline first: the same shared batching encoder the silo would use, fed straight from the files.
            double bare;
            await using (ImageEncoder encoder = ImageEncoder.Create(package, new ImageEncoderOptions(), new AggregationOptions { Clusters = 8 }.CreateAggregator()))
            {
                await foreach (EncodeResult _ in encoder.EncodeManyAsync(files.Take(16).Select(f => ImageSource.FromFile(f)), ct)) { }
                long start = Stopwatch.GetTimestamp();
                int n = 0;
                await foreach (EncodeResult _ in encoder.EncodeManyAsync(files.Select(f => ImageSource.FromFile(f)), ct)) n++;
                bare = n / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            string data = Path.Combine(Path.GetTempPath(), "objret-bench-ingest-" + Guid.NewGuid().ToString("N"));
            try
            {
                long startCluster = Stopwatch.GetTimestamp();
                IngestJobStatus status = await RunEmbeddedAsync(images, r.GetValue(model)!, new DirectoryInfo(data), "bench", IngestJobOptions.Default, ct);
                double wall = Stopwatch.GetElapsedTime(startCluster).TotalSeconds;

                // The job's own clock: from start (listing, leasing) to its last acknowledged batch; silo start-up is not ingest.
                double seconds = (status.FinishedAt!.Value - status.CreatedAt).TotalSeconds;
                double cluster = status.Processed / seconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bare encoder (EncodeManyAsync)       {bare,8:F1} images/s ({files.Length} images)\n" +
                    $"cluster path (job→workers→shards)    {cluster,8:F1} images/s ({status.Processed} images in {seconds:F2} s from job start to done; {wall:F2} s with silo start-up; {status.Indexed} indexed, {status.Failed} failed)\n" +
                    $"ratio cluster / bare                 {cluster / bare,8:F2}  ({Environment.ProcessorCount} cores, {package.Name} {package.Version})"));
            }
            finally
            {
                if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Where commands that call a gateway find their API key when no --api-key is given.</summary>
    public const string ApiKeyVariable = "OBJRET_API_KEY";

    private static async Task<int> RunThroughGatewayAsync(Uri gateway, string apiKey, string index, string container, string? prefix, IngestJobOptions options, CancellationToken ct)
    {
        using HttpClient http = EmbeddedHost.Client(gateway.ToString(), apiKey);
        HttpResponseMessage started = await http.PostAsJsonAsync($"/api/v1/indexes/{index}/ingest-jobs",
            new { container, prefix, batchSize = options.BatchSize, maxBytes = options.MaxBytes }, Json, ct);
        if (!started.IsSuccessStatusCode)
        {
            JsonElement problem = await started.Content.ReadFromJsonAsync<JsonElement>(Json, ct);
            Console.Error.WriteLine($"error: {(problem.TryGetProperty("detail", out JsonElement d) ? d.GetString() : started.StatusCode.ToString())}");
            return ExitCodes.BadInput;
        }

        string location = started.Headers.Location?.ToString() ?? $"/api/v1/ingest-jobs/{(await started.Content.ReadFromJsonAsync<JsonElement>(Json, ct)).GetProperty("id").GetString()}";
        Console.Error.WriteLine($"job {location}");
        var progress = new JobProgress();
        while (true)
        {
            JsonElement s = await http.GetFromJsonAsync<JsonElement>(location, Json, ct);
            var line = new ProgressLine(s.GetProperty("state").GetString()!, s.GetProperty("listingComplete").GetBoolean(), s.GetProperty("listed").GetInt64(),
                s.GetProperty("indexed").GetInt64(), s.GetProperty("unchanged").GetInt64(), s.GetProperty("failed").GetInt64(), s.GetProperty("queued").GetInt64() + s.GetProperty("inFlight").GetInt64(),
                s.GetProperty("imagesPerSecond").GetDouble(), s.GetProperty("etaSeconds").ValueKind == JsonValueKind.Number ? s.GetProperty("etaSeconds").GetDouble() : null);
            progress.Show(line);
            if (line.State is "completed" or "cancelled" or "failed")
            {
                progress.Summary(line);
                JsonElement failures = await http.GetFromJsonAsync<JsonElement>($"{location}/failures?limit=20", Json, ct);
                foreach (JsonElement f in failures.GetProperty("failures").EnumerateArray())
                {
                    Console.WriteLine($"  failed: {f.GetProperty("name").GetString()}  {f.GetProperty("reason").GetString()}  {f.GetProperty("message").GetString()}");
                }

                return line.State == "completed" ? ExitCodes.Success : ExitCodes.Failure;
            }

            await Task.Delay(500, ct);
        }
    }

    /// <summary>One process with every role, Localhost clustering on free ports, the index on local disk, job state in memory.</summary>
    internal static async Task<IngestJobStatus> RunEmbeddedAsync(DirectoryInfo directory, DirectoryInfo model, DirectoryInfo data, string indexName, IngestJobOptions options, CancellationToken ct)
    {
        if (!directory.Exists) throw new DirectoryNotFoundException($"Directory {directory.FullName} does not exist.");
        // A fresh service id per run: job state lives in memory and must not meet an earlier run's grains.
        IConfiguration configuration = EmbeddedHost.Configuration(
            "objret-embedded",
            ["index", "encoder"],
            model.FullName,
            data.FullName,
            "http://127.0.0.1:0",
            new Dictionary<string, string?> { ["ObjectRetrieval:Cluster:ServiceId"] = "objret-embedded-" + Guid.NewGuid().ToString("N")[..8] });
        WebApplication app = ObjectRetrievalHost.Build(configuration);
        await app.StartAsync(ct);
        try
        {
            IGrainFactory grains = app.Services.GetRequiredService<IGrainFactory>();
            ModelPackage package = ModelPackage.Load(model.FullName);
            var definition = new IndexDefinition(indexName, ModelIdentity.Of(package), package.EmbeddingDim, 16, 8, VectorCodecKind.Int8, null, KeepDense: false);
            if (await grains.GetGrain<IIndexGrain>(indexName).CreateAsync(definition) == IndexCreation.Conflict)
            {
                throw new ArgumentException($"Index '{indexName}' exists in {data.FullName} with another definition.");
            }

            IIngestJobGrain job = grains.GetGrain<IIngestJobGrain>("embedded-" + Guid.NewGuid().ToString("N")[..12]);
            await job.StartAsync(indexName, IngestSource.Folder(directory.FullName), options);
            var progress = new JobProgress();
            while (true)
            {
                IngestJobStatus s = (await job.StatusAsync())!;
                var line = new ProgressLine(s.Phase.ToString().ToLowerInvariant(), s.ListingComplete, s.Listed - s.Skipped, s.Indexed, s.Unchanged, s.Failed, s.Queued + s.InFlight, s.ImagesPerSecond, s.EtaSeconds);
                progress.Show(line);
                if (s.IsFinished)
                {
                    progress.Summary(line);
                    foreach (IngestFailure f in (await job.FailuresAsync(0, 20)).Failures) Console.WriteLine($"  failed: {f.Name}  {f.Reason}  {f.Message}");
                    return s;
                }

                await Task.Delay(250, ct);
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }


    private sealed record ProgressLine(string State, bool ListingComplete, long Listed, long Indexed, long Unchanged, long Failed, long Pending, double Rate, double? Eta)
    {
        public long Done => Indexed + Unchanged + Failed;
    }

    /// <summary>An ingest job's progress as the job reports it (its own rate and ETA), drawn by the shared bar.</summary>
    private sealed class JobProgress
    {
        private readonly ProgressBar _bar = new();

        public void Show(ProgressLine p) =>
            _bar.Draw($"{p.State,-10}", p.Done, Math.Max(1, p.Listed), p.ListingComplete ? $"{p.Listed}" : $"{p.Listed}+", p.Rate, p.Eta, $"failures {p.Failed}", final: false);

        public void Summary(ProgressLine p)
        {
            _bar.Draw($"{p.State,-10}", p.Done, Math.Max(1, p.Listed), $"{p.Listed}", p.Rate, p.Eta, $"failures {p.Failed}", final: true);
            double seconds = _bar.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.State}: {p.Indexed} indexed, {p.Unchanged} unchanged, {p.Failed} failed of {p.Listed} images in {seconds:F1} s ({p.Done / Math.Max(seconds, 1e-3):F0} images/s)"));
        }
    }
}
