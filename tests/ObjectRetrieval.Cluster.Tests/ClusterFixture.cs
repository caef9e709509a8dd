using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.ServiceDefaults;
using ObjectRetrieval.Silo;
using Orleans.TestingHost;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>Starts an in-process cluster of real silos sharing one index storage, plus optionally a gateway on a free port.</summary>
public sealed class TestClusterHandle : IAsyncDisposable
{
    private TestClusterHandle(InProcessTestCluster cluster, ShardGates gates)
    {
        Cluster = cluster;
        Gates = gates;
    }

    public InProcessTestCluster Cluster { get; }

    public ShardGates Gates { get; }

    public IClusterClient Client => Cluster.Client;

    /// <param name="rolesOf">The roles of the silo with the given name ("Primary", "Secondary_1", ...); all roles when null.</param>
    /// <param name="configureSilo">Adds to each silo after the defaults.</param>
    public static async Task<TestClusterHandle> StartAsync(
        int silos, Func<IIndexStorage> storage, Func<string, string[]>? rolesOf = null, Action<ISiloBuilder>? configureSilo = null)
    {
        var gates = new ShardGates();
        IIndexStorage shared = storage();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddSiloRoles(rolesOf?.Invoke(options.SiloName) ?? SiloRoles.All);
            silo.Services.AddSingleton(shared);
            silo.Services.AddSingleton(gates);
            silo.Services.AddOptions<ShardOptions>();
            silo.AddIncomingGrainCallFilter<ShardGateFilter>();
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureSiloHost((_, host) => host.Logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureClientHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        return new TestClusterHandle(cluster, gates);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>The gateway's HTTP API on Kestrel at a free loopback port, talking to a test cluster through its client.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, HttpClient http, ShardFanOut fanOut)
    {
        _app = app;
        Http = http;
        FanOut = fanOut;
    }

    public HttpClient Http { get; }

    public ShardFanOut FanOut { get; }

    public IServiceProvider Services => _app.Services;

    internal HashingQueryEmbedder Embedder => (HashingQueryEmbedder)_app.Services.GetRequiredService<IQueryEmbedder>();

    /// <summary>The base address, for clients that send their own (or no) key.</summary>
    public Uri Address => Http.BaseAddress!;

    /// <param name="settings">Gateway settings on top of the test keys and a rate limit high enough not to matter.</param>
    /// <param name="services">Adds to or replaces the gateway's services (an image encoder, for instance).</param>
    public static async Task<TestGateway> StartAsync(
        IClusterClient client, TimeSpan shardDeadline, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        Dictionary<string, string?> configuration = TestApiKeys.Settings();
        configuration["Gateway:ShardDeadline"] = shardDeadline.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        configuration["Gateway:RateLimit:RequestsPerSecond"] = "100000";
        configuration["Gateway:RateLimit:Burst"] = "100000";
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>()) configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton<IGrainFactory>(client);
        builder.Services.AddSingleton<IQueryEmbedder, HashingQueryEmbedder>();
        builder.AddServiceDefaults();
        builder.Services.AddObjectRetrievalGateway(builder.Configuration);
        services?.Invoke(builder.Services);
        WebApplication app = builder.Build();
        app.MapServiceDefaults();
        app.MapObjectRetrievalGateway();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestGateway(app, new HttpClient { BaseAddress = new Uri(address) }.Authorize(TestApiKeys.Admin), app.Services.GetRequiredService<ShardFanOut>());
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One 3-silo cluster with local-directory storage and a gateway, shared by the tests of a collection; each test uses its own index.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly string _storageDirectory = Path.Combine(Path.GetTempPath(), "objret-cluster-tests-" + Guid.NewGuid().ToString("N"));

    public TestClusterHandle Handle { get; private set; } = null!;

    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Handle = await TestClusterHandle.StartAsync(3, () => new LocalDirectoryIndexStorage(_storageDirectory));

        // Long enough that healthy shards on a loaded build machine always answer; the late shard is held by a gate, not by time.
        Gateway = await TestGateway.StartAsync(Handle.Client, TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Handle.DisposeAsync();
        if (Directory.Exists(_storageDirectory)) Directory.Delete(_storageDirectory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
