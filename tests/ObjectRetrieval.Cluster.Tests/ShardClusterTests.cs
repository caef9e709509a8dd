using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway;

namespace ObjectRetrieval.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ShardClusterTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Handle.Client;

    private ShardFanOut FanOut => fixture.Gateway.FanOut;

    private async Task<IndexDefinition> CreateIndexAsync(string name, int shards = 8)
    {
        IndexDefinition definition = TestData.Definition(name, shards);
        Assert.Equal(IndexCreation.Created, await Grains.GetGrain<IIndexGrain>(name).CreateAsync(definition));
        return definition;
    }

    [Fact]
    public async Task Upsert_search_and_delete_work_across_shards()
    {
        IndexDefinition index = await CreateIndexAsync("crud");
        ImageRepresentation[] images = TestData.Images(240, seed: 2);
        Assert.Equal(240, await FanOut.UpsertAsync(index, images.Select(EncodedImage.From).ToArray()));

        FanOutResult<ShardStats> stats = await FanOut.StatsAsync(index);
        Assert.False(stats.Partial);
        Assert.Equal(240, stats.Answers.Sum(s => s.Images));
        Assert.All(stats.Answers, s => Assert.True(s.Images > 0, $"{s.ShardKey} got no images: routing is not spreading them."));
        Assert.True(stats.Answers.Select(s => s.Silo).Distinct().Count() > 1, "All shards landed on one silo.");

        // Re-sending a batch (a retried ingest) must not duplicate anything.
        await FanOut.UpsertAsync(index, images.Take(50).Select(EncodedImage.From).ToArray());
        Assert.Equal(240, (await FanOut.StatsAsync(index)).Answers.Sum(s => s.Images));

        string[] deleted = images.Take(30).Select(i => i.ImageId).ToArray();
        Assert.Equal(30, await FanOut.DeleteAsync(index, deleted));
        Assert.Equal(0, await FanOut.DeleteAsync(index, deleted));
        Assert.Equal(210, (await FanOut.StatsAsync(index)).Answers.Sum(s => s.Images));

        SearchOutcome all = await FanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed("anything"), 1000, ScoringMode.Cluster, null, Explain: false));
        Assert.Equal(210, all.Hits.Count);
        Assert.Empty(all.Hits.Select(h => h.ImageId).Intersect(deleted));
    }

    [Theory]
    [InlineData(ScoringMode.Cluster)]
    [InlineData(ScoringMode.Global)]
    public async Task Cluster_search_returns_what_the_core_exact_search_returns(ScoringMode mode)
    {
        IndexDefinition index = await CreateIndexAsync("exact-" + mode.ToString().ToLowerInvariant(), shards: 5);
        ImageRepresentation[] images = TestData.Images(300, seed: 3);
        await FanOut.UpsertAsync(index, images.Select(EncodedImage.From).ToArray());

        var reference = new FlatVectorIndex(TestData.Dimension, index.Codec);
        foreach (ImageRepresentation image in images)
        {
            (float[] vectors, int count) = ModeVectors.For(image, mode, includeGlobal: true);
            reference.Upsert(image.ImageId, vectors, count);
        }

        foreach (string query in new[] { "fire hydrant", "a person on a scooter", "cat" })
        {
            float[] vector = HashingQueryEmbedder.Embed(query);
            IReadOnlyList<SearchHit> expected = reference.Search(vector, 25);
            SearchOutcome actual = await FanOut.SearchAsync(index, new ShardQuery(vector, 25, mode, null, Explain: true));
            Assert.False(actual.Partial);
            Assert.Equal(expected.Select(h => h.ImageId), actual.Hits.Select(h => h.ImageId));
            Assert.Equal(expected.Select(h => h.Score), actual.Hits.Select(h => h.Score));
            for (int i = 0; i < expected.Count; i++)
            {
                ShardHit hit = actual.Hits[i];
                ImageRepresentation image = images.Single(img => img.ImageId == hit.ImageId);
                Assert.Equal(image.SourceUri, hit.SourceUri);
                bool isCluster = mode == ScoringMode.Cluster && expected[i].VectorOrdinal < TestData.Clusters;
                Assert.Equal(isCluster ? expected[i].VectorOrdinal : null, hit.MatchedCluster);
                if (isCluster)
                {
                    Assert.NotNull(hit.Region);
                    Assert.Equal(image.Assignment.Select(a => a == hit.MatchedCluster ? (byte)1 : (byte)0), hit.Region.Mask);
                }
                else
                {
                    Assert.Null(hit.Region);
                }
            }
        }
    }

    [Fact]
    public async Task A_shard_that_misses_the_deadline_makes_the_answer_partial_and_is_named()
    {
        IndexDefinition index = await CreateIndexAsync("late-shard", shards: 4);
        ImageRepresentation[] images = TestData.Images(80, seed: 4);
        await FanOut.UpsertAsync(index, images.Select(EncodedImage.From).ToArray());
        string lateShard = ShardRouting.ShardKey(index.Name, 2);

        await using TestGateway hurried = await TestGateway.StartAsync(fixture.Handle.Client, TimeSpan.FromMilliseconds(300));
        fixture.Handle.Gates.Close(lateShard);
        try
        {
            SearchOutcome outcome = await hurried.FanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed("dog"), 100, ScoringMode.Cluster, null, false));
            Assert.True(outcome.Partial);
            Assert.Contains(lateShard, outcome.MissingShards);
            Assert.DoesNotContain(outcome.Hits, h => ShardRouting.ShardOf(h.ImageId, index.ShardCount) == 2);
        }
        finally
        {
            fixture.Handle.Gates.Open(lateShard);
        }

        // Once the shard answers again, the answer is whole.
        SearchOutcome whole = await FanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed("dog"), 100, ScoringMode.Cluster, null, false));
        Assert.False(whole.Partial);
        Assert.Equal(80, whole.Hits.Count);
    }

    [Fact]
    public async Task Upserts_for_the_wrong_shard_or_dimension_are_refused()
    {
        IndexDefinition index = await CreateIndexAsync("refusals", shards: 4);
        ImageRepresentation image = TestData.Image("misrouted", 7);
        int owner = ShardRouting.ShardOf(image.ImageId, index.ShardCount);
        IIndexShardGrain wrong = FanOut.Shard(index, (owner + 1) % index.ShardCount);
        await Assert.ThrowsAsync<ArgumentException>(() => wrong.UpsertAsync([EncodedImage.From(image)]));

        ImageRepresentation wide = image with { Dimension = 8, Global = new float[8], Centroids = new float[8 * TestData.Clusters] };
        await Assert.ThrowsAsync<ArgumentException>(() => FanOut.Shard(index, owner).UpsertAsync([EncodedImage.From(wide)]));
        Assert.Equal(0, (await FanOut.StatsAsync(index)).Answers.Sum(s => s.Images));
    }
}
