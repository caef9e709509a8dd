using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Demo;
using Xunit.Abstractions;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>Ingest jobs on a three-silo in-process cluster reading the corpus from Azurite; each test ingests into its own index.</summary>
[Collection(IngestCollection.Name)]
public sealed class IngestJobTests(IngestFixture fixture, ITestOutputHelper output)
{
    private static readonly IngestSource Images = IngestSource.Container(IngestFixture.Container);

    [Fact]
    public async Task A_job_indexes_every_image_once_records_every_failure_with_its_reason_and_a_rerun_indexes_nothing_new()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("exact-counts");
        IIngestJobGrain first = fixture.Client.GetGrain<IIngestJobGrain>("exact-counts-1");
        await first.StartAsync(index.Name, Images, IngestFixture.Options());
        IngestJobStatus done = await Waiting.UntilFinishedAsync(first);
        output.WriteLine($"first run: {done}");

        Assert.Equal(IngestJobPhase.Completed, done.Phase);
        Assert.Equal(IngestCorpus.Images, done.Indexed);
        Assert.Equal(IngestCorpus.BadFiles, done.Failed);
        Assert.Equal(0, done.Unchanged);
        Assert.Equal(IngestCorpus.NotImages, done.Skipped);
        Assert.Equal(IngestCorpus.Images + IngestCorpus.BadFiles + IngestCorpus.NotImages, done.Listed);
        Assert.Equal(0, done.Queued + done.InFlight);
        Assert.Equal(IngestCorpus.Images, await fixture.IndexedImagesAsync(index));

        IngestFailurePage failures = await first.FailuresAsync(0, 1000);
        Assert.Equal(IngestCorpus.BadFiles, failures.Total);
        Assert.Equal(fixture.Corpus.ExpectedFailures.OrderBy(f => f.Key, StringComparer.Ordinal),
            failures.Failures.Select(f => KeyValuePair.Create(f.Name, f.Reason)).OrderBy(f => f.Key, StringComparer.Ordinal));
        Assert.All(failures.Failures, f => Assert.False(string.IsNullOrWhiteSpace(f.Message)));

        IIngestJobGrain again = fixture.Client.GetGrain<IIngestJobGrain>("exact-counts-2");
        await again.StartAsync(index.Name, Images, IngestFixture.Options());
        IngestJobStatus rerun = await Waiting.UntilFinishedAsync(again);
        output.WriteLine($"rerun: {rerun}");
        Assert.Equal(IngestJobPhase.Completed, rerun.Phase);
        Assert.Equal(0, rerun.Indexed);
        Assert.Equal(IngestCorpus.Images, rerun.Unchanged);
        Assert.Equal(IngestCorpus.BadFiles, rerun.Failed);
        Assert.Equal(IngestCorpus.Images, await fixture.IndexedImagesAsync(index));
    }

    [Fact]
    public async Task Failures_are_read_in_pages_that_add_up_to_the_whole()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("failure-pages");
        IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("failure-pages");
        await job.StartAsync(index.Name, IngestSource.Container(IngestFixture.Container, "bad/"), IngestFixture.Options());
        IngestJobStatus done = await Waiting.UntilFinishedAsync(job);
        Assert.Equal(IngestCorpus.BadFiles, done.Failed);

        var names = new List<string>();
        for (long offset = 0; ; offset += 7)
        {
            IngestFailurePage page = await job.FailuresAsync(offset, 7);
            if (page.Failures.Count == 0) break;
            names.AddRange(page.Failures.Select(f => f.Name));
        }

        Assert.Equal(fixture.Corpus.ExpectedFailures.Keys.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Cancel_stops_the_job_and_hands_out_no_more_work()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("cancelled");
        IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("cancelled");
        await job.StartAsync(index.Name, Images, IngestFixture.Options());
        await Waiting.UntilAsync(async () => (await job.StatusAsync())!, s => s.Indexed > 0, Waiting.JobDeadline, "the first batch");

        IngestJobStatus cancelling = await job.CancelAsync();
        Assert.Contains(cancelling.Phase, new[] { IngestJobPhase.Cancelling, IngestJobPhase.Cancelled });
        IngestJobStatus cancelled = await Waiting.UntilAsync(async () => (await job.StatusAsync())!, s => s.Phase == IngestJobPhase.Cancelled, TimeSpan.FromSeconds(30), "the cancel");
        output.WriteLine($"cancelled: {cancelled}");

        Assert.Equal(0, cancelled.Queued + cancelled.InFlight);
        Assert.True(cancelled.Processed < IngestCorpus.Images + IngestCorpus.BadFiles, "cancel came after the whole job");
        Assert.Null(await job.LeaseAsync("test/0", "test"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => job.ResumeAsync());
    }

    [Fact]
    public async Task Pause_holds_the_work_and_resume_finishes_it_with_the_same_counts()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("paused");
        IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("paused");
        await job.StartAsync(index.Name, Images, IngestFixture.Options());
        await Waiting.UntilAsync(async () => (await job.StatusAsync())!, s => s.Indexed > 0, Waiting.JobDeadline, "the first batch");

        Assert.Equal(IngestJobPhase.Paused, (await job.PauseAsync()).Phase);
        IngestJobStatus paused = await Waiting.UntilAsync(async () => (await job.StatusAsync())!, s => s.InFlight == 0, TimeSpan.FromSeconds(60), "batches in flight to drain");
        Assert.Null(await job.LeaseAsync("test/0", "test"));
        Assert.Equal(IngestJobPhase.Paused, paused.Phase);

        await job.ResumeAsync();
        IngestJobStatus done = await Waiting.UntilFinishedAsync(job);
        Assert.Equal((IngestJobPhase.Completed, IngestCorpus.Images, IngestCorpus.BadFiles), (done.Phase, done.Indexed, done.Failed));
    }

    [Fact]
    public async Task A_job_resumes_from_its_saved_state_after_the_whole_cluster_restarts()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("restarted");
        IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("restarted");
        await job.StartAsync(index.Name, Images, IngestFixture.Options());
        IngestJobStatus before = await Waiting.UntilAsync(async () => (await job.StatusAsync())!, s => s.Indexed >= 256, Waiting.JobDeadline, "a quarter of the job");

        await fixture.RestartClusterAsync();

        // Nothing calls the job: the new silos wake it from the registry of unfinished jobs.
        IIngestJobGrain resumed = fixture.Client.GetGrain<IIngestJobGrain>("restarted");
        IngestJobStatus done = await Waiting.UntilFinishedAsync(resumed);
        output.WriteLine($"before restart: {before}");
        output.WriteLine($"after restart: {done}");
        Assert.Equal(IngestJobPhase.Completed, done.Phase);
        Assert.Equal(IngestCorpus.Images, done.Indexed);
        Assert.Equal(IngestCorpus.BadFiles, done.Failed);
        Assert.Equal(0, done.Unchanged);
        Assert.Equal(IngestCorpus.Images, await fixture.IndexedImagesAsync(index));
        Assert.Equal(IngestCorpus.BadFiles, (await resumed.FailuresAsync(0, 1000)).Failures.Select(f => f.Name).Distinct().Count());
    }

    [Fact]
    public async Task A_directory_job_indexes_the_same_images()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("from-directory");
        IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("from-directory");
        await job.StartAsync(index.Name, IngestSource.Folder(fixture.Corpus.Directory), IngestFixture.Options(batchSize: 256));
        IngestJobStatus done = await Waiting.UntilFinishedAsync(job);
        Assert.Equal((IngestJobPhase.Completed, IngestCorpus.Images, IngestCorpus.BadFiles, IngestCorpus.NotImages), (done.Phase, done.Indexed, done.Failed, done.Skipped));
        Assert.Equal(IngestCorpus.Images, await fixture.IndexedImagesAsync(index));
    }

    [Fact]
    public async Task A_poison_image_in_a_batch_is_isolated_and_the_job_completes_with_exactly_that_image_failed()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("with-poison");
        string directory = Path.Combine(Path.GetTempPath(), "objret-poison-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            IReadOnlyList<SceneImage> scenes = SceneGenerator.Write(directory, new SceneOptions { Count = 7, Seed = 41, MinSide = 64, MaxSide = 96 });
            File.Copy(Path.Combine(directory, scenes[0].FileName), Path.Combine(directory, $"{PoisonOnNameEncoder.Marker}-{scenes[0].FileName}"));

            // One batch holds every image: the poison one must not fail the other seven.
            IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("with-poison");
            await job.StartAsync(index.Name, IngestSource.Folder(directory), IngestFixture.Options(batchSize: 64));
            IngestJobStatus done = await Waiting.UntilFinishedAsync(job);

            Assert.Equal((IngestJobPhase.Completed, 7L, 1L), (done.Phase, done.Indexed, done.Failed));
            IngestFailure failure = Assert.Single((await job.FailuresAsync(0, 10)).Failures);
            Assert.Equal("poison", failure.Reason);
            Assert.StartsWith(PoisonOnNameEncoder.Marker, failure.Name, StringComparison.Ordinal);
            Assert.Contains("InvalidOperationException: The decoder crashed on this file.", failure.Message, StringComparison.Ordinal);
            Assert.Equal(7, await fixture.IndexedImagesAsync(index));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_image_that_loses_its_encoder_process_twice_on_its_own_is_recorded_as_poison_and_never_handed_out_again()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("process-killer");
        string directory = Path.Combine(Path.GetTempPath(), "objret-killer-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            IReadOnlyList<SceneImage> scenes = SceneGenerator.Write(directory, new SceneOptions { Count = 5, Seed = 43, MinSide = 64, MaxSide = 96 });
            string killer = $"{LostProcessSimulator.Marker}-{scenes[0].FileName}";
            File.Copy(Path.Combine(directory, scenes[0].FileName), Path.Combine(directory, killer));

            // One batch of six: its lease is lost with the process, the six come back one by one, and the marked one loses two more.
            IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("process-killer");
            await job.StartAsync(index.Name, IngestSource.Folder(directory), IngestFixture.Options(batchSize: 64));
            IngestJobStatus done = await Waiting.UntilFinishedAsync(job);
            output.WriteLine($"finished: {done}; leases lost with the process: {LostProcessSimulator.LeasesLostOf("process-killer")}");

            Assert.Equal((IngestJobPhase.Completed, 5L, 1L), (done.Phase, done.Indexed, done.Failed));
            IngestFailure failure = Assert.Single((await job.FailuresAsync(0, 10)).Failures);
            Assert.Equal((killer, "poison"), (failure.Name, failure.Reason));
            Assert.Contains("encoder process was lost 2 times while encoding this image alone", failure.Message, StringComparison.Ordinal);
            Assert.Equal(3, LostProcessSimulator.LeasesLostOf("process-killer"));
            Assert.Equal(5, await fixture.IndexedImagesAsync(index));
            Assert.Null(await job.LeaseAsync("test/0", "test"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_link_in_a_job_directory_that_leads_outside_it_is_not_read_and_is_recorded_as_a_failure_naming_no_absolute_path()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("link-escape");
        string root = Path.Combine(Path.GetTempPath(), "objret-escape-" + Guid.NewGuid().ToString("N")[..8]);
        string inside = Path.Combine(root, "allowed");
        string outside = Path.Combine(root, "outside");
        try
        {
            IReadOnlyList<SceneImage> scenes = SceneGenerator.Write(inside, new SceneOptions { Count = 4, Seed = 47, MinSide = 64, MaxSide = 96 });
            IReadOnlyList<SceneImage> secret = SceneGenerator.Write(outside, new SceneOptions { Count = 1, Seed = 53, MinSide = 64, MaxSide = 96 });
            File.CreateSymbolicLink(Path.Combine(inside, "escape.png"), Path.Combine(outside, secret[0].FileName));
            File.CreateSymbolicLink(Path.Combine(inside, "also-inside.png"), Path.Combine(inside, scenes[0].FileName));

            IIngestJobGrain job = fixture.Client.GetGrain<IIngestJobGrain>("link-escape");
            await job.StartAsync(index.Name, IngestSource.Folder(inside), IngestFixture.Options(batchSize: 64));
            IngestJobStatus done = await Waiting.UntilFinishedAsync(job);
            output.WriteLine($"finished: {done}");

            // The four scenes and the link that stays inside are indexed; the link that leads out is not read.
            Assert.Equal((IngestJobPhase.Completed, 5L, 1L), (done.Phase, done.Indexed, done.Failed));
            IngestFailure failure = Assert.Single((await job.FailuresAsync(0, 10)).Failures);
            Assert.Equal(("escape.png", "OutsideRoot"), (failure.Name, failure.Reason));
            Assert.DoesNotContain(root, failure.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Path.GetTempPath(), failure.Message, StringComparison.Ordinal);
            Assert.Equal(5, await fixture.IndexedImagesAsync(index));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task The_http_api_starts_a_job_reports_it_and_answers_bad_input_with_problem_details()
    {
        IndexDefinition index = await fixture.CreateIndexAsync("over-http");
        (var app, HttpClient http) = await fixture.StartGatewayAsync();
        await using var _ = app;
        using (http)
        {
            HttpResponseMessage started = await http.PostAsJsonAsync($"/api/v1/indexes/{index.Name}/ingest-jobs", new { container = IngestFixture.Container, prefix = "bad/", batchSize = 64, maxBytes = IngestCorpus.MaxBytes });
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
            string location = started.Headers.Location!.ToString();
            JsonElement job = await started.Content.ReadFromJsonAsync<JsonElement>();
            string id = job.GetProperty("id").GetString()!;

            JsonElement status = await Waiting.UntilAsync(() => http.GetFromJsonAsync<JsonElement>(location), s => s.GetProperty("state").GetString() == "completed", Waiting.JobDeadline, "the job over HTTP");
            Assert.Equal(IngestCorpus.BadFiles, status.GetProperty("failed").GetInt64());
            JsonElement failures = await http.GetFromJsonAsync<JsonElement>($"/api/v1/ingest-jobs/{id}/failures?limit=20");
            Assert.Equal(20, failures.GetProperty("failures").GetArrayLength());
            Assert.Equal(IngestCorpus.BadFiles, failures.GetProperty("total").GetInt64());
            Assert.NotNull(failures.GetProperty("next").GetString());

            await AssertProblemAsync(await http.PostAsJsonAsync($"/api/v1/indexes/{index.Name}/ingest-jobs", new { container = "images", directory = "/data" }), HttpStatusCode.BadRequest);
            await AssertProblemAsync(await http.PostAsJsonAsync($"/api/v1/indexes/{index.Name}/ingest-jobs", new { container = "images", batchSize = 8 }), HttpStatusCode.BadRequest);
            await AssertProblemAsync(await http.PostAsJsonAsync($"/api/v1/indexes/{index.Name}/ingest-jobs", new { container = "no-such-container" }), HttpStatusCode.BadRequest);
            await AssertProblemAsync(await http.PostAsJsonAsync("/api/v1/indexes/no-such-index/ingest-jobs", new { container = "images" }), HttpStatusCode.NotFound);
            await AssertProblemAsync(await http.GetAsync("/api/v1/ingest-jobs/no-such-job"), HttpStatusCode.NotFound);
            await AssertProblemAsync(await http.PostAsync($"/api/v1/ingest-jobs/{id}/pause", null), HttpStatusCode.Conflict);
            await AssertProblemAsync(await http.GetAsync($"/api/v1/ingest-jobs/{id}/failures?limit=0"), HttpStatusCode.BadRequest);
        }
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }
}
