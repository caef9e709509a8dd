using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards.Tests;

public sealed class FencingTests
{
    [Fact]
    public async Task A_second_writer_fences_the_first_and_every_write_the_first_acknowledged_survives()
    {
        var store = new InMemoryShardStore();
        var events = new CountingEvents();
        ShardEngine first = await Shard.OpenAsync(store, events: events);
        await first.Writer.UpsertAsync(Shard.Batch(0, 20));
        await first.Writer.SealAsync();
        await first.Writer.UpsertAsync(Shard.Batch(20, 10));

        ShardEngine second = await Shard.OpenAsync(store);
        Assert.Equal(30, second.Reader.ImageCount);
        Assert.Equal(first.Writer.Epoch + 1, second.Writer.Epoch);

        // The first writer's log was fenced when the second replayed it: its next append fails its condition.
        await Assert.ThrowsAsync<ShardFencedException>(() => first.Writer.UpsertAsync(Shard.Batch(30, 5)));
        Assert.True(first.Writer.IsFenced);
        await Assert.ThrowsAsync<ShardFencedException>(() => first.Writer.SealAsync());
        await Assert.ThrowsAsync<ShardFencedException>(() => first.Writer.DeleteAsync(["img-00001"]));
        Assert.True(events.Fencings >= 1);

        await second.Writer.UpsertAsync(Shard.Batch(30, 5, seed: 2));
        await second.Writer.SealAsync();
        ShardEngine third = await Shard.OpenAsync(store);
        Assert.Equal(35, third.Reader.ImageCount);
        Assert.Equal(Shard.Describe(second), Shard.Describe(third));
    }

    [Fact]
    public async Task A_stale_writer_cannot_seal_over_the_new_owner_and_its_segment_never_enters_the_manifest()
    {
        var store = new InMemoryShardStore();
        ShardEngine stale = await Shard.OpenAsync(store);
        await stale.Writer.UpsertAsync(Shard.Batch(0, 10));
        ShardEngine owner = await Shard.OpenAsync(store);
        await owner.Writer.DeleteAsync(["img-00000"]);

        await Assert.ThrowsAsync<ShardFencedException>(() => stale.Writer.SealAsync());

        Assert.Empty(owner.Writer.Manifest.Segments);
        ShardEngine reopened = await Shard.OpenAsync(store);
        Assert.Equal(9, reopened.Reader.ImageCount);
        Assert.Null(reopened.Reader.Find("img-00000"));
        Assert.DoesNotContain(store.Names, ShardFileNames.IsSegment);
    }

    [Fact]
    public async Task Segment_names_carry_the_writers_epoch_so_two_writers_never_create_the_same_file()
    {
        var store = new InMemoryShardStore();
        ShardEngine first = await Shard.OpenAsync(store);
        await first.Writer.UpsertAsync(Shard.Batch(0, 3));
        SealResult one = (await first.Writer.SealAsync())!;
        ShardEngine second = await Shard.OpenAsync(store);
        await second.Writer.UpsertAsync(Shard.Batch(3, 3));
        SealResult two = (await second.Writer.SealAsync())!;
        Assert.Equal(ShardFileNames.Segment(1, 0), one.Segment);
        Assert.Equal(ShardFileNames.Segment(2, 1), two.Segment);
    }

    [Fact]
    public async Task A_second_writer_on_a_local_folder_is_refused_while_the_first_holds_it_and_starts_once_it_lets_go()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-fence-" + Guid.NewGuid().ToString("N"));
        try
        {
            ShardEngine first = await Shard.OpenAsync(new LocalShardStore(directory));
            await first.Writer.UpsertAsync(Shard.Batch(0, 10));
            await first.Writer.SealAsync();
            await first.Writer.UpsertAsync(Shard.Batch(10, 5));

            ShardFencedException refused = await Assert.ThrowsAsync<ShardFencedException>(() => Shard.OpenAsync(new LocalShardStore(directory)));
            Assert.Contains(ShardFileNames.OwnerLock, refused.Message, StringComparison.Ordinal);
            await first.Writer.UpsertAsync(Shard.Batch(15, 5));
            List<string> before = Shard.Describe(first);
            await first.DisposeAsync();

            // A segment a writer died writing stays a temporary file; the next owner clears it.
            string leftover = Path.Combine(directory, ShardFileNames.Segment(1, 7) + ".0123.tmp");
            await File.WriteAllBytesAsync(leftover, [1, 2, 3]);
            await using ShardEngine second = await Shard.OpenAsync(new LocalShardStore(directory));
            Assert.False(File.Exists(leftover));
            Assert.Equal(20, second.Reader.ImageCount);
            Assert.Equal(before, Shard.Describe(second));
            Assert.Equal(2, second.Writer.Epoch);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_local_log_appended_behind_the_writers_back_fails_the_position_condition()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-position-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using ShardEngine engine = await Shard.OpenAsync(new LocalShardStore(directory));
            await engine.Writer.UpsertAsync(Shard.Batch(0, 2));
            string log = Directory.EnumerateFiles(directory, "wal-*.log").Single();
            await File.AppendAllTextAsync(log, "x");
            await Assert.ThrowsAsync<ShardFencedException>(() => engine.Writer.UpsertAsync(Shard.Batch(2, 2)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
