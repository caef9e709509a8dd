using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Demo;
using ObjectRetrieval.ServiceDefaults;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>One process of the local cluster: its component label (as the chart's ServiceMonitor sets it) and its HTTP port.</summary>
public sealed record ClusterProcess(string Component, Uri BaseUrl, ObjretProcess Process);

/// <summary>
/// A local cluster of separate <c>objret serve</c> processes on loopback, laid out as the chart deploys them: an index
/// silo (primary of the localhost membership, shards on local-directory storage), an encoder silo and a gateway
/// (an Orleans client). <see cref="RunScenarioAsync"/> drives it the way the dashboards expect to have been used.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string IndexName = "scenes";

    /// <summary>An index one of whose shards cannot load its storage: searches on it come back partial.</summary>
    public const string DamagedIndexName = "damaged";

    public const int Scenes = 10;

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(90);

    private readonly string _root;
    private readonly List<ObjretProcess> _started = [];
    private readonly List<ClusterProcess> _processes = [];

    private LocalCluster(string root)
    {
        _root = root;
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) }.Authorize(TestApiKeys.Admin);
    }

    public IReadOnlyList<ClusterProcess> Processes => _processes;

    public Uri Gateway => _processes.Single(p => p.Component == "gateway").BaseUrl;

    public HttpClient Http { get; }

    /// <summary>What the scenario did, for the test output.</summary>
    public List<string> Notes { get; } = [];

    private string ModelDirectory => Path.Combine(_root, "model");

    private string ScenesDirectory => Path.Combine(_root, "scenes");

    private string StorageDirectory => Path.Combine(_root, "index");

    public static async Task<LocalCluster> StartAsync()
    {
        var cluster = new LocalCluster(Path.Combine(Path.GetTempPath(), "objret-live-" + Guid.NewGuid().ToString("N")[..12]));
        try
        {
            await cluster.StartProcessesAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartProcessesAsync()
    {
        DemoModelGenerator.Write(ModelDirectory);
        SceneGenerator.Write(ScenesDirectory, new SceneOptions { Count = Scenes, Seed = 11, MinSide = 200, MaxSide = 320 });

        // Unusable for the encoder: an ingest must show failures by reason.
        await File.WriteAllTextAsync(Path.Combine(ScenesDirectory, "meeting-notes.jpg"), "Meeting notes, not a picture.\n");

        var clusterId = "objret-live-" + Guid.NewGuid().ToString("N")[..6];
        int indexSiloPort = Ports.Free(), indexGatewayPort = Ports.Free();
        await StartAsync("index-silo", Config(clusterId, ["index"], indexSiloPort, indexGatewayPort, primarySiloPort: null));

        // The secondary silo joins through the primary; the gateway (an Orleans client: its SiloPort setting is
        // unused) connects to the primary's Orleans gateway port.
        await Task.WhenAll(
            StartAsync("encoder-silo", Config(clusterId, ["encoder"], Ports.Free(), Ports.Free(), indexSiloPort)),
            StartAsync("gateway", Config(clusterId, ["gateway"], siloPort: 11111, indexGatewayPort, primarySiloPort: null)));
        _processes.Sort((a, b) => string.CompareOrdinal(a.Component, b.Component));

        foreach (var process in _processes)
        {
            await WaitUntilAsync(
                async () =>
                {
                    using var ready = await Http.GetAsync(new Uri(process.BaseUrl, ServiceDefaultsExtensions.ReadyPath));
                    return ready.StatusCode == HttpStatusCode.OK;
                },
                StartDeadline,
                $"{process.Component} ready at {ServiceDefaultsExtensions.ReadyPath}");
        }
    }

    /// <summary>
    /// An ingest of the scenes plus one unusable file through the API, one query twice (the second from the
    /// query cache), a search in another mode, and a search on the damaged index (a partial answer).
    /// </summary>
    public async Task RunScenarioAsync(TimeSpan deadline)
    {
        await CreateIndexAsync(IndexName, shards: 2);
        using (var started = await Http.PostAsJsonAsync(Api($"indexes/{IndexName}/ingest-jobs"), new { directory = ScenesDirectory }))
        {
            var body = await started.Content.ReadAsStringAsync();
            Assert.True(started.StatusCode == HttpStatusCode.Created, $"starting the ingest job: {(int)started.StatusCode} {body}");
            var jobId = (string)JsonNode.Parse(body)!["id"]!;
            JsonNode? job = null;
            await WaitUntilAsync(
                async () =>
                {
                    job = JsonNode.Parse(await Http.GetStringAsync(Api($"ingest-jobs/{jobId}")));
                    var state = (string?)job?["state"];
                    Assert.True(state is "running" or "completed", $"ingest job {jobId} is {state}: {job}");
                    return state == "completed";
                },
                deadline,
                $"ingest job {jobId} completed");
            Assert.Equal(Scenes, (long)job!["indexed"]!);
            Assert.Equal(1, (long)job["failed"]!);
            Notes.Add($"ingest job {jobId}: listed {job["listed"]}, skipped {job["skipped"]}, indexed {job["indexed"]}, failed {job["failed"]}");
        }

        foreach (var (query, mode) in new[] { ("red", "cluster"), ("red", "cluster"), ("blue", "global") })
        {
            var answer = await SearchAsync(IndexName, query, mode);
            Assert.False((bool)answer["partial"]!, $"search '{query}' ({mode}) was partial: {answer}");
            Assert.NotEmpty(answer["hits"]!.AsArray());
        }

        // A shard whose manifest is damaged refuses to start, so it cannot answer: the search is partial.
        await CreateIndexAsync(DamagedIndexName, shards: 2);
        var damagedShard = ShardRouting.ShardKey(DamagedIndexName, 1);
        var shardDirectory = Path.Combine(StorageDirectory, damagedShard);
        Directory.CreateDirectory(shardDirectory);
        await File.WriteAllBytesAsync(Path.Combine(shardDirectory, "manifest.json"), "not a manifest"u8.ToArray());
        var partial = await SearchAsync(DamagedIndexName, "red", "global");
        Assert.True((bool)partial["partial"]!, $"the search on the damaged index was not partial: {partial}");
        Assert.Contains(damagedShard, partial["missingShards"]!.AsArray().Select(s => (string?)s));
        Notes.Add($"searches: 'red' cluster twice (cache hit), 'blue' global, 'red' global on '{DamagedIndexName}' (partial, missing {damagedShard})");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();

        // The last started first (the primary silo last): each stops gracefully on SIGTERM, or is killed at the deadline.
        foreach (var process in Enumerable.Reverse(_started))
        {
            if (!process.HasExited && await process.TerminateAsync(TimeSpan.FromSeconds(20)) is null)
            {
                await process.KillAsync();
            }

            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is not worth failing a test over.
        }
    }

    /// <summary>Everything the process printed, for failure messages.</summary>
    public string OutputOf(string component) => _processes.Single(p => p.Component == component).Process.Output;

    private Uri Api(string path) => new(Gateway, "api/v1/" + path);

    private async Task CreateIndexAsync(string name, int shards)
    {
        using var created = await Http.PostAsJsonAsync(Api("indexes"), new { name, shards, clusters = 4 });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"creating index {name}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }

    private async Task<JsonNode> SearchAsync(string index, string query, string mode)
    {
        using var response = await Http.PostAsJsonAsync(Api($"indexes/{index}/search"), new { query, k = 5, mode });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"search '{query}' ({mode}) on {index}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Starts <c>objret serve</c> with the configuration and waits for its ready line.</summary>
    private async Task StartAsync(string component, object config)
    {
        var path = Path.Combine(_root, component + ".json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(config));
        var process = ObjretProcess.Start(["serve", "--config", path], new Dictionary<string, string> { ["OTEL_SERVICE_NAME"] = "object-retrieval-" + component });
        lock (_started)
        {
            _started.Add(process);
        }

        var url = await process.WaitUntilReadyAsync(StartDeadline);
        lock (_started)
        {
            _processes.Add(new ClusterProcess(component, url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/"), process));
        }
    }

    private object Config(string clusterId, string[] roles, int siloPort, int gatewayPort, int? primarySiloPort) => new
    {
        ObjectRetrieval = new
        {
            Roles = roles,
            ModelDirectory,
            HttpUrl = "http://127.0.0.1:0",
            Cluster = new
            {
                Mode = "Localhost",
                ClusterId = clusterId,
                ServiceId = clusterId,

                SiloPort = siloPort,
                GatewayPort = gatewayPort,
                PrimarySiloPort = primarySiloPort,
            },
            Storage = new { Kind = "Directory", Directory = StorageDirectory },
        },
        Gateway = new { ApiKeys = TestApiKeys.ConfigurationEntries(), FileRoots = new[] { ScenesDirectory } },
        Logging = new { LogLevel = new Dictionary<string, string> { ["Default"] = "Warning", ["Orleans"] = "Error" } },
    };

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Timed out after {timeout.TotalSeconds} s waiting for {what}. Last error: {last?.Message}"));
    }
}
