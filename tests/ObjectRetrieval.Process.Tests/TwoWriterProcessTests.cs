using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectRetrieval.Demo;
using Xunit.Abstractions;

namespace ObjectRetrieval.Process.Tests;

/// <summary>
/// Two <c>objret serve</c> processes of different clusters on one storage: blob storage hands the shard to whichever
/// activates it last and fences the other; a local folder's exclusive <c>owner.lock</c> refuses the second while the first lives.
/// </summary>
public sealed class TwoWriterProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(2);
    private const string Index = "contested";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-two-writers-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task On_blob_storage_the_second_process_takes_the_shard_the_first_is_fenced_and_every_acknowledged_image_survives()
    {
        await using Azurite azurite = await Azurite.StartBlobAsync();
        var storage = new { Kind = "Blob", BlobConnectionString = azurite.BlobConnectionString, BlobContainer = "contested-" + Guid.NewGuid().ToString("N")[..12] };
        (string model, string scenes, IReadOnlyList<SceneImage> images) = Prepare();

        await using ObjretProcess first = Serve("first", model, scenes, storage);
        using HttpClient a = await ClientAsync(first);
        Assert.Equal(HttpStatusCode.Created, (await a.PostAsJsonAsync("/api/v1/indexes", new { name = Index, shards = 1, clusters = 4 })).StatusCode);
        for (int i = 0; i < 4; i++) await AddAsync(a, scenes, images, i, HttpStatusCode.Created);

        await using ObjretProcess second = Serve("second", model, scenes, storage);
        using HttpClient b = await ClientAsync(second);
        Assert.Equal(4, await ImageCountAsync(b));

        // The first still has its shard active; its next write finds the log fenced and fails, and the shard lets go.
        HttpStatusCode refused = await AddAsync(a, scenes, images, 4, expected: null);
        output.WriteLine($"first process's write after the takeover: {(int)refused}");
        Assert.NotEqual(HttpStatusCode.Created, refused);
        Assert.Contains("lost ownership of its files", first.Output, StringComparison.Ordinal);

        await AddAsync(b, scenes, images, 5, HttpStatusCode.Created);
        Assert.Equal(["scene-0", "scene-1", "scene-2", "scene-3", "scene-5"], await IdsAsync(b));
    }

    [Fact]
    public async Task On_a_local_folder_the_second_process_is_refused_while_the_first_lives_and_takes_over_once_it_dies()
    {
        var storage = new { Kind = "Directory", Directory = Path.Combine(_root, "index") };
        (string model, string scenes, IReadOnlyList<SceneImage> images) = Prepare();

        await using ObjretProcess first = Serve("first", model, scenes, storage);
        using HttpClient a = await ClientAsync(first);
        Assert.Equal(HttpStatusCode.Created, (await a.PostAsJsonAsync("/api/v1/indexes", new { name = Index, shards = 1, clusters = 4 })).StatusCode);
        for (int i = 0; i < 4; i++) await AddAsync(a, scenes, images, i, HttpStatusCode.Created);

        await using ObjretProcess second = Serve("second", model, scenes, storage);
        using HttpClient b = await ClientAsync(second);
        using (JsonDocument index = JsonDocument.Parse(await b.GetStringAsync($"/api/v1/indexes/{Index}")))
        {
            // The shard cannot start on the second: the first holds owner.lock.
            Assert.True(index.RootElement.GetProperty("partial").GetBoolean(), index.RootElement.ToString());
        }

        // The first goes on writing meanwhile, then dies; the second takes the shard with every acknowledged image.
        await AddAsync(a, scenes, images, 4, HttpStatusCode.Created);
        await first.KillAsync();
        Assert.Equal(["scene-0", "scene-1", "scene-2", "scene-3", "scene-4"], await IdsAsync(b));
        await AddAsync(b, scenes, images, 5, HttpStatusCode.Created);
        Assert.Equal(6, await ImageCountAsync(b));
    }

    private (string Model, string Scenes, IReadOnlyList<SceneImage> Images) Prepare()
    {
        string model = Path.Combine(_root, "model");
        string scenes = Path.Combine(_root, "scenes");
        DemoModelGenerator.Write(model);
        return (model, scenes, SceneGenerator.Write(scenes, new SceneOptions { Count = 6, Seed = 5, MaxSide = 320 }));
    }

    private ObjretProcess Serve(string name, string model, string scenes, object storage)
    {
        string keys = Path.Combine(_root, "api-keys");
        File.WriteAllLines(keys, ["# name role sha256", $"ops admin {TestApiKeys.Sha256(TestApiKeys.Admin)}"]);
        return ObjretProcess.StartServe(Path.Combine(_root, name + ".json"), new
        {
            ObjectRetrieval = new
            {
                Roles = new[] { "index", "encoder", "gateway" },
                ModelDirectory = model,
                HttpUrl = "http://127.0.0.1:0",
                Cluster = new { Mode = "Localhost", ClusterId = "writer-" + name, SiloPort = Ports.Free(), GatewayPort = Ports.Free() },
                Storage = storage,
            },
            Gateway = new { FileRoots = new[] { scenes }, ApiKeysFile = keys },
            Logging = new { LogLevel = new Dictionary<string, string> { ["Default"] = "Warning" } },
        }, "objret serve (" + name + ")");
    }

    private static async Task<HttpClient> ClientAsync(ObjretProcess process) =>
        new HttpClient { BaseAddress = await process.WaitUntilReadyAsync(StartDeadline) }.Authorize(TestApiKeys.Admin);

    private static async Task<HttpStatusCode> AddAsync(HttpClient http, string scenes, IReadOnlyList<SceneImage> images, int i, HttpStatusCode? expected)
    {
        HttpResponseMessage added = await http.PostAsJsonAsync($"/api/v1/indexes/{Index}/images", new { imageId = $"scene-{i}", path = Path.Combine(scenes, images[i].FileName) });
        if (expected is { } status) Assert.True(added.StatusCode == status, await added.Content.ReadAsStringAsync());
        return added.StatusCode;
    }

    private static async Task<int> ImageCountAsync(HttpClient http)
    {
        using JsonDocument index = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/indexes/{Index}"));
        Assert.False(index.RootElement.GetProperty("partial").GetBoolean(), index.RootElement.ToString());
        return index.RootElement.GetProperty("images").GetInt32();
    }

    private static async Task<string[]> IdsAsync(HttpClient http)
    {
        HttpResponseMessage response = await http.PostAsJsonAsync($"/api/v1/indexes/{Index}/search", new { query = "red", k = 100, mode = "global" });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using JsonDocument answer = JsonDocument.Parse(body);
        Assert.False(answer.RootElement.GetProperty("partial").GetBoolean(), body);
        return answer.RootElement.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("imageId").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
