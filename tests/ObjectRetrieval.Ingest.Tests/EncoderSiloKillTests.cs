using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>
/// Three `objret serve` processes (index+gateway, and two encoder silos) on loopback with the corpus in
/// Azurite. One encoder process is killed with SIGKILL while the job runs; the job must still end with
/// exactly the counts of an undisturbed run.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class EncoderSiloKillTests(IngestFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_completes_with_exact_counts_after_an_encoder_silo_process_is_killed()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string serviceId = "objret-kill-" + Guid.NewGuid().ToString("N")[..8];
        int primaryPort = Ports.Free();
        int httpPort = Ports.Free();
        var silos = new List<ObjretProcess>();
        try
        {
            silos.Add(ObjretProcess.StartServe(Path.Combine(directory, "silo-0.json"), Config(serviceId, ["index", "gateway"], primaryPort, primaryPort, httpPort), "index+gateway"));
            await silos[0].WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            int[] encoderPorts = [Ports.Free(), Ports.Free()];
            for (int i = 1; i <= 2; i++)
            {
                silos.Add(ObjretProcess.StartServe(Path.Combine(directory, $"silo-{i}.json"), Config(serviceId, ["encoder"], encoderPorts[i - 1], primaryPort, Ports.Free()), $"encoder-{i}"));
            }

            await Task.WhenAll(silos.Skip(1).Select(s => s.WaitUntilReadyAsync(TimeSpan.FromSeconds(90))));
            using HttpClient http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") }.Authorize(TestApiKeys.Admin);

            (await http.PostAsJsonAsync("/api/v1/indexes", new { name = "killed", shards = 8, clusters = 4 })).EnsureSuccessStatusCode();
            HttpResponseMessage started = await http.PostAsJsonAsync("/api/v1/indexes/killed/ingest-jobs", new { container = IngestFixture.Container, batchSize = 64, maxBytes = IngestCorpus.MaxBytes });
            Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
            string location = started.Headers.Location!.ToString();

            // Kill an encoder process while it holds a batch: the silo identity ("S127.0.0.1:PORT:GEN") names its port.
            JsonElement atKill = await Waiting.UntilAsync(() => http.GetFromJsonAsync<JsonElement>(location),
                s => s.GetProperty("indexed").GetInt64() > 0 && s.GetProperty("batchesInFlightBySilo").EnumerateObject().Any(), Waiting.JobDeadline, "batches in flight");
            output.WriteLine($"silo ports: index+gateway {primaryPort}, encoders {encoderPorts[0]}, {encoderPorts[1]}; in flight by silo: {atKill.GetProperty("batchesInFlightBySilo")}");
            string busy = atKill.GetProperty("batchesInFlightBySilo").EnumerateObject().OrderByDescending(p => p.Value.GetInt32()).First().Name;
            int victim = busy.Contains($":{encoderPorts[0]}:", StringComparison.Ordinal) ? 1 : 2;
            Assert.Contains($":{encoderPorts[victim - 1]}:", busy, StringComparison.Ordinal);
            await silos[victim].KillAsync();
            output.WriteLine($"SIGKILL to {silos[victim].Name} ({busy}, holding {atKill.GetProperty("batchesInFlightBySilo").GetProperty(busy).GetInt32()} batches) at: {Counts(atKill)}");
            Assert.NotEqual("completed", atKill.GetProperty("state").GetString());

            JsonElement done = await Waiting.UntilAsync(() => http.GetFromJsonAsync<JsonElement>(location), s => s.GetProperty("state").GetString() is "completed" or "failed" or "cancelled", Waiting.JobDeadline, "the job to finish");
            JsonElement index = await http.GetFromJsonAsync<JsonElement>("/api/v1/indexes/killed");
            output.WriteLine($"finished: {Counts(done)} leasesReissued={done.GetProperty("leasesReissued").GetInt64()} imagesInIndex={index.GetProperty("images").GetInt32()}");

            Assert.Equal("completed", done.GetProperty("state").GetString());
            Assert.Equal(IngestCorpus.Images, done.GetProperty("indexed").GetInt64());
            Assert.Equal(IngestCorpus.BadFiles, done.GetProperty("failed").GetInt64());
            Assert.Equal(0, done.GetProperty("unchanged").GetInt64());
            Assert.Equal(IngestCorpus.Images, index.GetProperty("images").GetInt32());
            JsonElement failures = await http.GetFromJsonAsync<JsonElement>(location + "/failures?limit=1000");
            Assert.Equal(IngestCorpus.BadFiles, failures.GetProperty("failures").EnumerateArray().Select(f => f.GetProperty("name").GetString()).Distinct().Count());
        }
        finally
        {
            foreach (ObjretProcess silo in silos) await silo.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Counts(JsonElement s) =>
        $"state={s.GetProperty("state").GetString()} listed={s.GetProperty("listed").GetInt64()} indexed={s.GetProperty("indexed").GetInt64()} failed={s.GetProperty("failed").GetInt64()} unchanged={s.GetProperty("unchanged").GetInt64()} skipped={s.GetProperty("skipped").GetInt64()}";

    private object Config(string serviceId, string[] roles, int siloPort, int primaryPort, int httpPort) => new
    {
        ObjectRetrieval = new
        {
            Roles = roles,
            ModelDirectory = fixture.ModelDirectory,
            HttpUrl = $"http://127.0.0.1:{httpPort}",
            Cluster = new { Mode = "Localhost", ServiceId = serviceId, ClusterId = serviceId, SiloPort = siloPort, GatewayPort = Ports.Free(), PrimarySiloPort = primaryPort },
            Storage = new { Kind = "Blob", BlobConnectionString = fixture.Azurite.BlobConnectionString, BlobContainer = serviceId },
        },
        Ingest = new
        {
            BlobConnectionString = fixture.Azurite.BlobConnectionString,
            LeaseDuration = "00:00:06",
            TickInterval = "00:00:00.200",
            WorkersPerJob = 6,
            MaxPendingBatches = 8,
        },
        Gateway = new { ApiKeys = TestApiKeys.ConfigurationEntries(), AllowedContainers = new[] { IngestFixture.Container } },
        Logging = new { LogLevel = new { Default = "Warning" } },
    };
}
