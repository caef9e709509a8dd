using Azure.Storage.Blobs;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>Shards losing their silo or their whole cluster: each test starts its own cluster, since it stops silos.</summary>
public sealed class PersistenceTests
{
    private static ShardFanOut FanOutFor(IGrainFactory grains) =>
        new(grains, Options.Create(new GatewayOptions { ShardDeadline = TimeSpan.FromSeconds(30) }), TimeProvider.System, NullLogger<ShardFanOut>.Instance);

    private static Task<SearchOutcome> SearchAsync(ShardFanOut fanOut, IndexDefinition index, string query) =>
        fanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed(query), 1000, ScoringMode.Cluster, null, Explain: false));

    /// <summary>Upserts in batches, seals some shards mid-way, upserts more, deletes some: every path through the log and segments.</summary>
    private static async Task<HashSet<string>> WriteHistoryAsync(ShardFanOut fanOut, IndexDefinition index, ImageRepresentation[] images)
    {
        await fanOut.UpsertAsync(index, images[..100].Select(EncodedImage.From).ToArray());
        await fanOut.Shard(index, 0).SealAsync();
        await fanOut.Shard(index, 1).SealAsync();
        await fanOut.UpsertAsync(index, images[100..].Select(EncodedImage.From).ToArray());
        await fanOut.Shard(index, 1).SealAsync();
        string[] deleted = images.Where((_, i) => i % 7 == 0).Select(i => i.ImageId).ToArray();
        await fanOut.DeleteAsync(index, deleted);
        return images.Select(i => i.ImageId).Except(deleted).ToHashSet();
    }

    [Fact]
    public async Task Shards_of_a_stopped_silo_reactivate_elsewhere_with_every_acknowledged_image()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-failover-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using TestClusterHandle handle = await TestClusterHandle.StartAsync(3, () => new LocalDirectoryIndexStorage(directory));
            IndexDefinition index = TestData.Definition("failover", shards: 12);
            await handle.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
            ShardFanOut fanOut = FanOutFor(handle.Client);
            HashSet<string> live = await WriteHistoryAsync(fanOut, index, TestData.Images(200, seed: 11));
            SearchOutcome before = await SearchAsync(fanOut, index, "bicycle");

            FanOutResult<ShardStats> stats = await fanOut.StatsAsync(index);
            Orleans.TestingHost.InProcessSiloHandle victim = handle.Cluster.Silos.Skip(1)
                .First(s => stats.Answers.Any(a => a.Silo.Contains(s.SiloAddress.ToString(), StringComparison.Ordinal)));
            int movedShards = stats.Answers.Count(a => a.Silo.Contains(victim.SiloAddress.ToString(), StringComparison.Ordinal));
            Assert.True(movedShards > 0);

            await handle.Cluster.StopSiloAsync(victim);

            SearchOutcome after = await SearchAsync(fanOut, index, "bicycle");
            Assert.False(after.Partial, string.Join(", ", after.MissingShards));
            Assert.Equal(live.Order(StringComparer.Ordinal), after.Hits.Select(h => h.ImageId).Order(StringComparer.Ordinal));
            Assert.Equal(before.Hits.Select(h => (h.ImageId, h.Score)), after.Hits.Select(h => (h.ImageId, h.Score)));
            FanOutResult<ShardStats> moved = await fanOut.StatsAsync(index);
            Assert.DoesNotContain(moved.Answers, a => a.Silo.Contains(victim.SiloAddress.ToString(), StringComparison.Ordinal));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Shards_in_blob_storage_survive_the_whole_cluster_restarting()
    {
        await using Azurite azurite = await Azurite.StartBlobAsync();
        string container = "shards-" + Guid.NewGuid().ToString("N")[..12];
        IIndexStorage NewStorage() => new BlobIndexStorage(new BlobContainerClient(azurite.BlobConnectionString, container));
        IndexDefinition index = TestData.Definition("blob-index", shards: 4);
        ImageRepresentation[] images = TestData.Images(160, seed: 12);

        HashSet<string> live;
        SearchOutcome before;
        await using (TestClusterHandle first = await TestClusterHandle.StartAsync(2, NewStorage))
        {
            await first.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
            ShardFanOut fanOut = FanOutFor(first.Client);
            live = await WriteHistoryAsync(fanOut, index, images);
            before = await SearchAsync(fanOut, index, "traffic light");
        }

        await using TestClusterHandle second = await TestClusterHandle.StartAsync(2, NewStorage);
        Assert.Equal(index, await second.Client.GetGrain<IIndexGrain>(index.Name).GetDefinitionAsync());
        ShardFanOut again = FanOutFor(second.Client);
        SearchOutcome after = await SearchAsync(again, index, "traffic light");
        Assert.False(after.Partial);
        Assert.Equal(live.Order(StringComparer.Ordinal), after.Hits.Select(h => h.ImageId).Order(StringComparer.Ordinal));
        Assert.Equal(before.Hits.Select(h => (h.ImageId, h.Score, h.MatchedCluster)), after.Hits.Select(h => (h.ImageId, h.Score, h.MatchedCluster)));

        // Sealed shards keep one segment and an empty log; the others hold everything in their log.
        ShardStats sealedShard = await again.Shard(index, 1).StatsAsync();
        Assert.Equal(1, sealedShard.Segments);
        IShardStore store = NewStorage().OpenShard(ShardRouting.ShardKey(index.Name, 1));
        Assert.Single(await store.ListSegmentsAsync());
    }
}
