using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Models;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Silo;
using Orleans.TestingHost;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>
/// Azurite holding the corpus, the demo model (small input so encoding is quick) and an in-process cluster of
/// three real silos: one index-only, one index+encoder, one encoder-only. Job state goes to Azurite, shards to
/// a local directory, so a cluster stopped and started again finds both.
/// </summary>
public sealed class IngestFixture : IAsyncLifetime
{
    public const string Container = "images";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-ingest-tests-" + Guid.NewGuid().ToString("N"));
    private readonly string _serviceId = "objret-ingest-" + Guid.NewGuid().ToString("N")[..8];

    public Azurite Azurite { get; private set; } = null!;

    public IngestCorpus Corpus { get; private set; } = null!;

    public ModelPackage Model { get; private set; } = null!;

    public string ModelDirectory => Path.Combine(_root, "model");

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public string IndexDirectory => Path.Combine(_root, "indexes");

    public async Task InitializeAsync()
    {
        Azurite = await Azurite.StartBlobAsync();
        Model = DemoModelGenerator.Write(ModelDirectory, new DemoModelOptions { ImageSize = 64 });
        Corpus = IngestCorpus.Write(Path.Combine(_root, "corpus"));
        await Corpus.UploadAsync(new BlobServiceClient(Azurite.BlobConnectionString).GetBlobContainerClient(Container));
        Cluster = await StartClusterAsync();
    }

    /// <summary>Stops every silo, then starts a new cluster on the same storage (job state in blobs, shards on disk).</summary>
    public async Task RestartClusterAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Cluster = await StartClusterAsync();
    }

    public async Task<IndexDefinition> CreateIndexAsync(string name)
    {
        var definition = new IndexDefinition(name, ModelIdentity.Of(Model), Model.EmbeddingDim, 8, 4, VectorCodecKind.Int8, null, KeepDense: false);
        Assert.Equal(IndexCreation.Created, await Client.GetGrain<IIndexGrain>(name).CreateAsync(definition));
        return definition;
    }

    public static IngestJobOptions Options(int batchSize = 64) => IngestJobOptions.Default with { BatchSize = batchSize, MaxBytes = IngestCorpus.MaxBytes };

    /// <summary>Images in the index's shards, counted by the shards themselves.</summary>
    public async Task<int> IndexedImagesAsync(IndexDefinition index)
    {
        ShardStats[] stats = await Task.WhenAll(Enumerable.Range(0, index.ShardCount)
            .Select(s => Client.GetGrain<IIndexShardGrain>(ShardRouting.ShardKey(index.Name, s)).StatsAsync()));
        return stats.Sum(s => s.Images);
    }

    /// <summary>
    /// The gateway on Kestrel at a free port, talking to the cluster through its client: the test keys, the corpus
    /// container (and one that does not exist) allowed as sources; the client sends the writer key.
    /// </summary>
    public async Task<(WebApplication App, HttpClient Http)> StartGatewayAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        Dictionary<string, string?> settings = TestApiKeys.Settings();
        settings["Gateway:AllowedContainers:0"] = Container;
        settings["Gateway:AllowedContainers:1"] = "no-such-container";
        settings["Gateway:FileRoots:0"] = Corpus.Directory;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<IGrainFactory>(Client);
        builder.Services.AddSingleton<IQueryEmbedder>(_ => throw new InvalidOperationException("The ingest tests embed no queries."));
        builder.Services.AddObjectRetrievalGateway(builder.Configuration);
        WebApplication app = builder.Build();
        app.MapObjectRetrievalGateway();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(address) }.Authorize(TestApiKeys.Writer));
    }

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ingest:BlobConnectionString"] = Azurite.BlobConnectionString,
            ["Ingest:StateConnectionString"] = Azurite.BlobConnectionString,
            ["Ingest:LeaseDuration"] = "00:00:06",
            ["Ingest:TickInterval"] = "00:00:00.200",
            ["Ingest:WorkersPerJob"] = "6",
            ["Ingest:MaxPendingBatches"] = "8",
        }).Build();
        var storage = new LocalDirectoryIndexStorage(IndexDirectory);
        ModelPackage model = Model;
        var builder = new InProcessTestClusterBuilder(3);
        builder.Options.ServiceId = _serviceId;
        builder.ConfigureSilo((silo, orleans) =>
        {
            // In-process test silos are named Silo_0, Silo_1, ...
            string[] roles = silo.SiloName switch
            {
                "Silo_0" => [SiloRoles.Index],
                "Silo_1" => [SiloRoles.Index, SiloRoles.Encoder],
                _ => [SiloRoles.Encoder],
            };
            orleans.AddSiloRoles(roles);
            orleans.AddIncomingGrainCallFilter<LostProcessSimulator>();
            orleans.Services.AddSingleton<IIndexStorage>(storage);
            orleans.Services.AddOptions<ShardOptions>();
            if (roles.Contains(SiloRoles.Encoder))
            {
                orleans.Services.AddSingleton<IImageEncoderService>(sp => new ImageTowerEncoderService(model, sp.GetRequiredService<ILoggerFactory>()));
                orleans.Services.AddSingleton<IIngestImageEncoder>(sp =>
                    new PoisonOnNameEncoder(new ProcessKillingEncoder(new SharedIngestImageEncoder((ImageTowerEncoderService)sp.GetRequiredService<IImageEncoderService>()))));
            }

            orleans.AddObjectRetrievalIngest(configuration, new StorageSettings { Kind = StorageKind.Directory, Directory = IndexDirectory });
        });
        builder.ConfigureSiloHost((_, host) => host.Logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureClientHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Azurite.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class IngestCollection : ICollectionFixture<IngestFixture>
{
    public const string Name = "ingest";
}

/// <summary>
/// The silo's real ingest encoder, except that an image whose id contains <see cref="Marker"/> throws an
/// unexpected exception every time, as a decoder that crashes on one crafted file would.
/// </summary>
internal sealed class PoisonOnNameEncoder(IIngestImageEncoder inner) : IIngestImageEncoder
{
    public const string Marker = "poison";

    public int Dimension => inner.Dimension;

    public Task<ObjectRetrieval.Core.Representation.ImageRepresentation> EncodeAsync(
        IngestImage image, ObjectRetrieval.Core.Aggregation.AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken) =>
        image.ImageId.Contains(Marker, StringComparison.Ordinal)
            ? throw new InvalidOperationException("The decoder crashed on this file.")
            : inner.EncodeAsync(image, aggregation, keepDensePatches, cancellationToken);
}
