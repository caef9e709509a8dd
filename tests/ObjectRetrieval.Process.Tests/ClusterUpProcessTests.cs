using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectRetrieval.Demo;
using Xunit.Abstractions;

namespace ObjectRetrieval.Process.Tests;

/// <summary><c>objret cluster up</c>: Azurite plus silo processes plus a gateway, ready together and stopped together.</summary>
public sealed class ClusterUpProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-cluster-up-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Cluster_up_serves_shards_on_every_silo_and_sigterm_stops_everything_it_started()
    {
        string model = Path.Combine(_root, "model");
        DemoModelGenerator.Write(model);
        int httpPort = Ports.Free();
        int firstSiloPort = Ports.Free();
        await using ObjretProcess cluster = ObjretProcess.Start(
            ["cluster", "up", "--silos", "2", "--model", model, "--data", Path.Combine(_root, "data"),
             "--http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--silo-port", firstSiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            name: "objret cluster up");
        using var http = new HttpClient { BaseAddress = await cluster.WaitUntilReadyAsync(TimeSpan.FromMinutes(3)) };
        http.Authorize(cluster.ApiKey);

        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/v1/indexes", new { name = "spread", shards = 8 })).StatusCode);
        // The first call activates every shard; on a starved machine some may miss the stats deadline once.
        JsonElement index = await Eventually.UntilAsync(
            () => http.GetFromJsonAsync<JsonElement>("/api/v1/indexes/spread"), i => !i.GetProperty("partial").GetBoolean(),
            TimeSpan.FromMinutes(1), "every shard of the new index to answer");
        string[] silos = index.GetProperty("shards").EnumerateArray().Select(s => s.GetProperty("silo").GetString()!).ToArray();
        output.WriteLine($"shards per silo: {string.Join(", ", silos.GroupBy(s => s).Select(g => $"{g.Key}={g.Count()}"))}");
        Assert.Equal(8, silos.Length);
        Assert.Equal(2, silos.Distinct().Count());

        int? exitCode = await cluster.TerminateAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 0, $"cluster up did not stop cleanly (exit {exitCode?.ToString() ?? "none"}):\n{cluster.Tail}");

        // Everything it started is gone: nothing answers on the gateway's port any more.
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/health/live"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
