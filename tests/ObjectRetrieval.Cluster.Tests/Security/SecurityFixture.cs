using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Models;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Silo;
using SkiaSharp;

namespace ObjectRetrieval.Cluster.Tests.Security;

/// <summary>
/// A one-silo cluster (with the ingest grains) and a gateway on loopback, with a file tree built to be attacked:
/// an allowed root holding an image, a text file, a symbolic link to a file outside and one to /etc; a second root
/// configured through a symbolic link; and indexes with images whose stored sources point at each of those.
/// Uploads are decoded for real (SkiaSharp, under the fixture's pixel budget) and stand-in vectors stored.
/// </summary>
public sealed class SecurityFixture : IAsyncLifetime
{
    public const string ImagesIndex = "sec-images";
    public const string SearchIndex = "sec-search";
    public const string AllowedContainer = "public";
    public const string AllowedPrefix = "shared/";
    public const long MaxImageBytes = 1 << 20;
    public const int MaxShards = 16;
    public const int MaxIvfLists = 1024;

    /// <summary>Decoded pixels the gateway's uploads may hold at once: two 3000 × 3000 bombs.</summary>
    public const long PixelBudgetPixels = 18_000_000;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-security-" + Guid.NewGuid().ToString("N")[..12]);

    public string Allowed => Path.Combine(_root, "allowed");

    public string Outside => Path.Combine(_root, "outside");

    /// <summary>A configured root that is itself a symbolic link (to <c>also-real</c>).</summary>
    public string LinkedRoot => Path.Combine(_root, "linked-root");

    public PixelBudget Budget { get; } = new(PixelBudgetPixels);

    /// <summary>The shards' local-directory storage.</summary>
    public string StorageDirectory => Path.Combine(_root, "index");

    public TestClusterHandle Handle { get; private set; } = null!;

    public TestGateway Gateway { get; private set; } = null!;

    public Uri Address => Gateway.Address;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Allowed);
        Directory.CreateDirectory(Outside);
        Directory.CreateDirectory(Path.Combine(_root, "also-real"));
        Directory.CreateSymbolicLink(LinkedRoot, Path.Combine(_root, "also-real"));
        await File.WriteAllBytesAsync(Path.Combine(Allowed, "scene.png"), Png(64, 48, SKColors.OrangeRed));
        await File.WriteAllBytesAsync(Path.Combine(LinkedRoot, "linked.png"), Png(40, 40, SKColors.SteelBlue));
        await File.WriteAllTextAsync(Path.Combine(Allowed, "notes.txt"), "not an image\n");
        await File.WriteAllBytesAsync(Path.Combine(Outside, "secret.png"), Png(32, 32, SKColors.Black));
        File.CreateSymbolicLink(Path.Combine(Allowed, "escape.png"), Path.Combine(Outside, "secret.png"));
        Directory.CreateSymbolicLink(Path.Combine(Allowed, "etc"), "/etc");

        string storage = StorageDirectory;
        IConfiguration none = new ConfigurationBuilder().Build();
        Handle = await TestClusterHandle.StartAsync(1, () => new LocalDirectoryIndexStorage(storage), configureSilo: silo =>
        {
            // The ingest grains with job state in memory: starting a job over HTTP reaches the real job grain.
            silo.AddMemoryGrainStorage(IngestNames.StorageProvider);
            silo.Services.AddIngestServices(none);
        });

        var settings = new Dictionary<string, string?>
        {
            ["Gateway:FileRoots:0"] = Allowed,
            ["Gateway:FileRoots:1"] = LinkedRoot,
            ["Gateway:AllowedContainers:0"] = AllowedContainer + "/" + AllowedPrefix,
            ["Gateway:MaxImageBytes"] = MaxImageBytes.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Quotas:MaxShardsPerIndex"] = MaxShards.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Quotas:MaxIvfLists"] = MaxIvfLists.ToString(CultureInfo.InvariantCulture),
        };
        var encoder = new DecodingTestEncoder(new ImagePreprocessor(224, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f], ResizeMode.CenterCrop) { Budget = Budget });
        Gateway = await TestGateway.StartAsync(Handle.Client, TimeSpan.FromSeconds(10), settings, services => services.AddSingleton<IImageEncoderService>(encoder));

        await CreateIndexAsync(new { name = ImagesIndex, shards = 2, clusters = TestData.Clusters, model = DecodingTestEncoder.ModelName, dimension = TestData.Dimension });
        await CreateIndexAsync(new { name = SearchIndex, shards = 2, clusters = TestData.Clusters });
        IIndexGrain searchIndex = Handle.Client.GetGrain<IIndexGrain>(SearchIndex);
        await Gateway.FanOut.UpsertAsync((await searchIndex.GetDefinitionAsync())!, TestData.Images(40, seed: 31).Select(EncodedImage.From).ToArray());

        // Stored sources as a writer with an upload's ?sourceUri= could leave them: each must be served only if safe.
        IndexDefinition images = (await Handle.Client.GetGrain<IIndexGrain>(ImagesIndex).GetDefinitionAsync())!;
        await Gateway.FanOut.UpsertAsync(images,
        [
            Stored("plain", Path.Combine(Allowed, "scene.png")),
            Stored("through-link", Path.Combine(Allowed, "escape.png")),
            Stored("through-linked-directory", Path.Combine(Allowed, "etc", "hostname")),
            Stored("text-file", Path.Combine(Allowed, "notes.txt")),
            Stored("dotdot", Path.Combine(Allowed, "..", "outside", "secret.png")),
            Stored("outside", Path.Combine(Outside, "secret.png")),
        ]);
    }

    public HttpClient Client(string? key)
    {
        var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        return key is null ? http : http.Authorize(key);
    }

    private async Task CreateIndexAsync(object request)
    {
        using HttpClient admin = Client(TestApiKeys.Admin);
        using HttpResponseMessage created = await admin.PostAsJsonAsync("/api/v1/indexes", request);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
    }

    private static EncodedImage Stored(string id, string source) =>
        EncodedImage.From(TestData.Image(id, id.GetHashCode(StringComparison.Ordinal)) with { SourceUri = source });

    /// <summary>A single-colour PNG: a few hundred bytes that decode to width × height pixels.</summary>
    public static byte[] Png(int width, int height, SKColor colour)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(colour);
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Handle.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is not worth failing a test over.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SecurityCollection : ICollectionFixture<SecurityFixture>
{
    public const string Name = "security";
}

/// <summary>Decodes each upload with the real preprocessor (limits and pixel budget included) and stores seeded stand-in vectors.</summary>
internal sealed class DecodingTestEncoder(ImagePreprocessor preprocessor) : IImageEncoderService
{
    public const string ModelName = "decode-test:1";

    public string Model => ModelName;

    public int Dimension => TestData.Dimension;

    public async Task<ImageRepresentation> EncodeAsync(
        string imageId, ReadOnlyMemory<byte> bytes, string? sourceUri, AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken = default)
    {
        await Task.Run(() =>
        {
            try
            {
                using PreprocessedImage prepared = preprocessor.Preprocess(bytes.Span);
            }
            catch (ImageDecodeException e)
            {
                throw new ArgumentException(e.Message, e);
            }
        }, cancellationToken);
        return TestData.Image(imageId, imageId.GetHashCode(StringComparison.Ordinal)) with { SourceUri = sourceUri };
    }
}
