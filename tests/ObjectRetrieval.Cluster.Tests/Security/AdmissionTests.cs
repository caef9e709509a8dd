using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Cluster.Tests.Security;

/// <summary>Per-key rate limits and the bounded text tower, each on a gateway of its own over the security cluster.</summary>
[Collection(SecurityCollection.Name)]
public sealed class AdmissionTests(SecurityFixture fixture)
{
    [Fact]
    public async Task A_key_over_its_rate_gets_429_problems_with_retry_after_while_another_key_goes_on()
    {
        await using TestGateway gateway = await TestGateway.StartAsync(fixture.Handle.Client, TimeSpan.FromSeconds(10), new Dictionary<string, string?>
        {
            ["Gateway:RateLimit:RequestsPerSecond"] = "1",
            ["Gateway:RateLimit:Burst"] = "3",
        });
        using HttpClient reader = new HttpClient { BaseAddress = gateway.Address }.Authorize(TestApiKeys.Reader);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (int i = 0; i < 10 && limited is null; i++)
        {
            HttpResponseMessage response = await reader.GetAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
        }

        Assert.True(limited is not null, $"No 429 in {string.Join(", ", statuses)}");
        await HostileInputTests.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");

        // The bucket is per key: the writer's is full.
        using HttpClient writer = new HttpClient { BaseAddress = gateway.Address }.Authorize(TestApiKeys.Writer);
        Assert.Equal(HttpStatusCode.OK, (await writer.GetAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}")).StatusCode);

        // Probes are never limited.
        using HttpClient anonymous = new() { BaseAddress = gateway.Address };
        for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Text_tower_overflow_answers_503_with_retry_after_instead_of_queueing_without_bound()
    {
        var blocking = new BlockingQueryEmbedder();
        await using TestGateway gateway = await TestGateway.StartAsync(fixture.Handle.Client, TimeSpan.FromSeconds(10), new Dictionary<string, string?>
        {
            ["Gateway:TextTowerConcurrency"] = "1",
            ["Gateway:TextTowerQueueTimeout"] = "00:00:00.100",
        }, services => services.AddSingleton<IQueryEmbedder>(blocking));
        using HttpClient reader = new HttpClient { BaseAddress = gateway.Address }.Authorize(TestApiKeys.Reader);

        // The first miss holds the only slot; a second, different query cannot start within the queue timeout.
        Task<HttpResponseMessage> first = reader.PostAsJsonAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}/search", new { query = "first" });
        await blocking.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using HttpResponseMessage second = await reader.PostAsJsonAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}/search", new { query = "second" });
        await HostileInputTests.AssertProblemAsync(second, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(second.Headers.RetryAfter);

        blocking.Release.TrySetResult();
        using HttpResponseMessage done = await first;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
    }

    [Fact]
    public async Task Nan_and_empty_id_upserts_through_an_orleans_client_are_rejected_before_the_log()
    {
        IIndexShardGrain shard = fixture.Handle.Client.GetGrain<IIndexShardGrain>(ShardRouting.ShardKey(SecurityFixture.SearchIndex, 0));
        ShardStats before = await shard.StatsAsync();

        // Built here, on the client, so the refusal can only come from the shard grain.
        var nan = TestData.Image("nan-image", 5);
        nan.Global[3] = float.NaN;
        EncodedImage[] bad = [EncodedImage.From(nan), EncodedImage.From(TestData.Image(string.Empty, 6)), EncodedImage.From(TestData.Image("x", 7)) with { ImageId = string.Empty }];
        foreach (EncodedImage image in bad)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => shard.UpsertAsync([image]));
        }

        ShardStats after = await shard.StatsAsync();
        Assert.Equal(before.LogRecords, after.LogRecords);
        Assert.Equal(before.Images, after.Images);
    }

    private sealed class BlockingQueryEmbedder : IQueryEmbedder
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Model => TestData.Model;

        public int Dimension => TestData.Dimension;

        public async ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken = default)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return TestData.UnitVector(new Random(query.Length));
        }
    }
}
