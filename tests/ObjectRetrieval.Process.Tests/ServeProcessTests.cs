using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectRetrieval.Demo;
using Xunit.Abstractions;

namespace ObjectRetrieval.Process.Tests;

/// <summary><c>objret serve</c> as a real process on local-directory storage: killed without warning, started again, nothing acknowledged lost.</summary>
public sealed class ServeProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(2);
    private static readonly string[] Queries = ["red", "blue", "green", "white"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-serve-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Serve_killed_after_acknowledged_upserts_restarts_with_the_same_images_and_results()
    {
        string model = Path.Combine(_root, "model");
        string scenes = Path.Combine(_root, "scenes");
        DemoModelGenerator.Write(model);
        IReadOnlyList<SceneImage> images = SceneGenerator.Write(scenes, new SceneOptions { Count = 24, Seed = 7, MaxSide = 640 });
        string config = WriteConfig(model, scenes);

        int count;
        IReadOnlyList<string> before;
        await using (ObjretProcess first = StartServe(config))
        {
            using HttpClient http = new HttpClient { BaseAddress = await first.WaitUntilReadyAsync(StartDeadline) }.Authorize(TestApiKeys.Admin);
            HttpResponseMessage created = await http.PostAsJsonAsync("/api/v1/indexes", new { name = "survivor", shards = 4, clusters = 4 });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

            // Half uploaded as bytes, half referenced by path: both are acknowledged only once in the write-ahead log.
            for (int i = 0; i < images.Count; i++)
            {
                string file = Path.Combine(scenes, images[i].FileName);
                HttpResponseMessage added = i % 2 == 0
                    ? await http.PostAsync($"/api/v1/indexes/survivor/images?imageId=scene-{i}", Upload(await File.ReadAllBytesAsync(file)))
                    : await http.PostAsJsonAsync("/api/v1/indexes/survivor/images", new { imageId = $"scene-{i}", path = file });
                Assert.True(added.StatusCode == HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
            }

            count = await ImageCountAsync(http);
            before = await SearchAllAsync(http);
            await first.KillAsync();
            output.WriteLine($"before SIGKILL: {count} images; {before.Count} hits over {Queries.Length} queries");
        }

        Assert.Equal(images.Count, count);

        // New ports through the environment (it overrides the file), as a rescheduled pod would get.
        await using ObjretProcess second = StartServe(config);
        using (HttpClient http = new HttpClient { BaseAddress = await second.WaitUntilReadyAsync(StartDeadline) }.Authorize(TestApiKeys.RotatedAdmin))
        {
            int after = await ImageCountAsync(http);
            IReadOnlyList<string> again = await SearchAllAsync(http);
            output.WriteLine($"after restart: {after} images; {again.Count} hits over {Queries.Length} queries");
            Assert.Equal(count, after);
            Assert.Equal(before, again);
        }

        // SIGTERM stops it gracefully: exit code 0, not a kill.
        Assert.Equal(0, await second.TerminateAsync(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Serve_refuses_a_configuration_that_misses_a_setting_and_names_it()
    {
        Directory.CreateDirectory(_root);
        string config = Path.Combine(_root, "bad.json");
        await File.WriteAllTextAsync(config, """{ "ObjectRetrieval": { "Roles": ["index", "gateway"], "Storage": { "Kind": "Directory" } } }""");
        await using ObjretProcess serve = ObjretProcess.Start(["serve", "--config", config]);
        Assert.Equal(2, await serve.WaitForExitAsync(StartDeadline));
        Assert.Contains("ObjectRetrieval:Storage:Directory", serve.Output, StringComparison.Ordinal);
        Assert.Contains("ObjectRetrieval:ModelDirectory", serve.Output, StringComparison.Ordinal);
    }

    private static ByteArrayContent Upload(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private static ObjretProcess StartServe(string config) => ObjretProcess.Start(
        ["serve", "--config", config],
        new Dictionary<string, string>
        {
            ["ObjectRetrieval__Cluster__SiloPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
            ["ObjectRetrieval__Cluster__GatewayPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        });

    private string WriteConfig(string model, string scenes)
    {
        string path = Path.Combine(_root, "serve.json");

        // The keys as a mounted Secret gives them: a file of "name role sha256" lines.
        string keys = Path.Combine(_root, "api-keys");
        File.WriteAllLines(keys, [
            "# name role sha256",
            $"ops-a admin {TestApiKeys.Sha256(TestApiKeys.Admin)}",
            $"ops-b admin {TestApiKeys.Sha256(TestApiKeys.RotatedAdmin)}"]);
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            ObjectRetrieval = new
            {
                Roles = new[] { "index", "encoder", "gateway" },
                ModelDirectory = model,
                HttpUrl = "http://127.0.0.1:0",
                Cluster = new { Mode = "Localhost", ClusterId = "process-tests" },
                Storage = new { Kind = "Directory", Directory = Path.Combine(_root, "index") },
            },
            Gateway = new { FileRoots = new[] { scenes }, ApiKeysFile = keys },
            Logging = new { LogLevel = new Dictionary<string, string> { ["Default"] = "Warning" } },
        }));
        return path;
    }

    private static async Task<int> ImageCountAsync(HttpClient http)
    {
        using JsonDocument index = JsonDocument.Parse(await http.GetStringAsync("/api/v1/indexes/survivor"));
        Assert.False(index.RootElement.GetProperty("partial").GetBoolean());
        return index.RootElement.GetProperty("images").GetInt32();
    }

    /// <summary>Every query's hits as "query mode rank id score cluster" lines: equal lists mean identical results.</summary>
    private static async Task<IReadOnlyList<string>> SearchAllAsync(HttpClient http)
    {
        var lines = new List<string>();
        foreach (string query in Queries)
        {
            foreach (string mode in new[] { "cluster", "global" })
            {
                HttpResponseMessage response = await http.PostAsJsonAsync("/api/v1/indexes/survivor/search", new { query, k = 10, mode, explain = true });
                string body = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode, body);
                using JsonDocument answer = JsonDocument.Parse(body);
                Assert.False(answer.RootElement.GetProperty("partial").GetBoolean());
                int rank = 0;
                foreach (JsonElement hit in answer.RootElement.GetProperty("hits").EnumerateArray())
                {
                    lines.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{query} {mode} {rank++} {hit.GetProperty("imageId").GetString()} {hit.GetProperty("score").GetSingle():R} {hit.GetProperty("matchedCluster")} {hit.GetProperty("region")}"));
                }
            }
        }

        return lines;
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
