using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards.Tests;

public sealed class CompactionTests
{
    private static readonly ShardEngineOptions FanInFour = new() { CompactionFanIn = 4, CompactionMinSegmentBytes = 1 << 20 };

    private static async Task<ShardEngine> FourSealsAsync(InMemoryShardStore store)
    {
        ShardEngine engine = await Shard.OpenAsync(store, FanInFour);
        for (int seal = 0; seal < 4; seal++)
        {
            await engine.Writer.UpsertAsync(Shard.Batch(seal * 10, 15, seed: seal));
            await engine.Writer.DeleteAsync([$"img-{seal * 10:D5}"]);
            await engine.Writer.SealAsync();
        }

        return engine;
    }

    [Fact]
    public async Task Compaction_merges_a_tier_of_segments_into_one_drops_tombstones_and_keeps_every_result()
    {
        var store = new InMemoryShardStore();
        var events = new CountingEvents();
        ShardEngine engine = await FourSealsAsync(store);
        List<string> before = Shard.Describe(engine);
        Assert.Equal(4, engine.Writer.Manifest.Segments.Count);

        CompactionResult result = (await engine.Writer.StartCompaction()!)!;

        Assert.Equal(4, result.SegmentsMerged);
        SegmentEntry merged = Assert.Single(engine.Writer.Manifest.Segments);
        Assert.Equal((result.Segment, 0L), (merged.Name, merged.Tombstones));
        Assert.Equal(engine.Reader.ImageCount, merged.Records);
        Assert.Equal([merged.Name], store.Names.Where(ShardFileNames.IsSegment));
        Assert.Equal(before, Shard.Describe(engine));
        Assert.Equal(before, Shard.Describe(await Shard.OpenAsync(store, events: events)));
    }

    [Fact]
    public async Task Fewer_segments_than_the_fan_in_are_left_alone()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store, FanInFour);
        for (int seal = 0; seal < 3; seal++)
        {
            await engine.Writer.UpsertAsync(Shard.Batch(seal * 10, 10));
            await engine.Writer.SealAsync();
        }

        Assert.Null(engine.Writer.StartCompaction());
    }

    [Fact]
    public async Task Upserts_seals_and_searches_go_on_while_a_compaction_is_under_way()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await FourSealsAsync(store);
        var reading = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        store.BeforeCall = async (operation, name) =>
        {
            if (operation == StoreOperation.OpenRead && ShardFileNames.IsSegment(name))
            {
                reading.TrySetResult();
                await release.Task;
            }
        };

        Task<CompactionResult?> compaction = engine.Writer.StartCompaction()!;
        await reading.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await engine.Writer.UpsertAsync(Shard.Batch(100, 10));
        await engine.Writer.DeleteAsync(["img-00005"]);
        SealResult seal = (await engine.Writer.SealAsync())!;
        Assert.NotEmpty(engine.Reader.Search(new ShardSearch(Shard.Query(1), 5, Core.Representation.ScoringMode.Cluster, null)));
        Assert.False(compaction.IsCompleted);

        store.BeforeCall = null;
        release.SetResult();
        CompactionResult merged = (await compaction)!;

        // The merged segment takes the place of the four; the seal made during the merge stays after it.
        Assert.Equal([merged.Segment, seal.Segment], engine.Writer.Manifest.Segments.Select(s => s.Name));
        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(Shard.Describe(engine), Shard.Describe(reopened));
        Assert.Null(reopened.Reader.Find("img-00005"));
    }

    [Fact]
    public async Task A_compaction_that_fails_before_its_commit_leaves_the_old_segments_live()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await FourSealsAsync(store);
        List<string> before = Shard.Describe(engine);
        store.Faults = (operation, name) => operation == StoreOperation.Replace && name == ShardFileNames.Manifest ? StoreFault.FailBefore : StoreFault.None;

        await Assert.ThrowsAsync<IOException>(() => engine.Writer.StartCompaction()!);
        store.Faults = null;

        Assert.Equal(4, engine.Writer.Manifest.Segments.Count);
        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(before, Shard.Describe(reopened));
        Assert.Equal(4, store.Names.Count(ShardFileNames.IsSegment));
    }

    [Fact]
    public async Task A_tombstone_survives_compaction_while_an_older_segment_may_still_hold_its_image()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store, FanInFour);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 4000));
        await engine.Writer.SealAsync();
        for (int seal = 0; seal < 4; seal++)
        {
            await engine.Writer.DeleteAsync([$"img-{seal:D5}"]);
            await engine.Writer.UpsertAsync(Shard.Batch(5000 + seal, 1));
            await engine.Writer.SealAsync();
        }

        CompactionResult result = (await engine.Writer.StartCompaction()!)!;
        Assert.Equal(4, result.SegmentsMerged);
        Assert.Equal(2, engine.Writer.Manifest.Segments.Count);
        Assert.Equal(4, engine.Writer.Manifest.Segments[1].Tombstones);
        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(4000, reopened.Reader.ImageCount);
        Assert.Null(reopened.Reader.Find("img-00000"));
    }
}
