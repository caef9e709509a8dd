using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards.Tests;

public sealed class ConcurrencyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static int CountAll(ShardEngine engine) =>
        engine.Reader.Search(new ShardSearch(Shard.Query(0), 100_000, ScoringMode.Global, null)).Count;

    /// <summary>Holds the first store call that matches until released; tells when it is held.</summary>
    private static (TaskCompletionSource Held, TaskCompletionSource Release) Hold(InMemoryShardStore store, Func<StoreOperation, string, bool> matches)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeCall = async (operation, name) =>
        {
            if (matches(operation, name) && held.TrySetResult()) await release.Task;
        };
        return (held, release);
    }

    [Fact]
    public async Task A_search_completes_while_an_upsert_is_held_in_its_log_append_and_sees_the_batch_only_once_it_is_durable()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 20));
        (TaskCompletionSource held, TaskCompletionSource release) = Hold(store, (operation, _) => operation == StoreOperation.Append);

        Task<int> upsert = engine.Writer.UpsertAsync(Shard.Batch(20, 10));
        await held.Task.WaitAsync(Deadline);
        Assert.Equal(20, CountAll(engine));
        Assert.Null(engine.Reader.Find("img-00025"));
        Assert.False(upsert.IsCompleted);

        release.SetResult();
        Assert.Equal(10, await upsert.WaitAsync(Deadline));
        Assert.Equal(30, CountAll(engine));
    }

    [Fact]
    public async Task A_search_completes_while_a_seal_is_held_writing_its_segment()
    {
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        await engine.Writer.UpsertAsync(Shard.Batch(0, 20));
        await engine.Writer.DeleteAsync(["img-00003"]);
        (TaskCompletionSource held, TaskCompletionSource release) = Hold(store, (operation, name) => operation == StoreOperation.Create && ShardFileNames.IsSegment(name));

        Task<SealResult?> seal = engine.Writer.SealAsync();
        await held.Task.WaitAsync(Deadline);
        Assert.Equal(19, CountAll(engine));
        Assert.NotNull(engine.Reader.Find("img-00007"));
        Assert.Equal(19, engine.Stats.Images);
        Assert.False(seal.IsCompleted);

        release.SetResult();
        Assert.NotNull(await seal.WaitAsync(Deadline));
        Assert.Equal(19, CountAll(engine));
        Assert.Equal(Shard.Describe(engine), Shard.Describe(await Shard.OpenAsync(store)));
    }

    [Fact]
    public async Task Searches_on_many_threads_during_upserts_deletes_and_seals_see_whole_batches()
    {
        const int batchSize = 25;
        const int batches = 40;
        var store = new InMemoryShardStore();
        ShardEngine engine = await Shard.OpenAsync(store);
        const int readerCount = 4;
        int started = 0;
        var readersStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The writes start once every reader has searched, so they overlap.
        Task writes = Task.Run(async () =>
        {
            await readersStarted.Task;
            for (int b = 0; b < batches; b++)
            {
                await engine.Writer.UpsertAsync(Shard.Batch(b * batchSize, batchSize, seed: b));
                if (b % 8 == 7) await engine.Writer.SealAsync();
            }

            // Deletes go in whole batches too: the first batch, then the second.
            await engine.Writer.DeleteAsync(Enumerable.Range(0, batchSize).Select(i => $"img-{i:D5}").ToArray());
            await engine.Writer.DeleteAsync(Enumerable.Range(batchSize, batchSize).Select(i => $"img-{i:D5}").ToArray());
        });

        Task[] readers = Enumerable.Range(0, readerCount).Select(_ => Task.Run(() =>
        {
            bool first = true;
            do
            {
                int count = CountAll(engine);
                Assert.Equal(0, count % batchSize);
                if (first && Interlocked.Increment(ref started) == readerCount) readersStarted.SetResult();
                first = false;
            }
            while (!writes.IsCompleted);
        })).ToArray();

        await writes.WaitAsync(Deadline);
        await Task.WhenAll(readers).WaitAsync(Deadline);
        Assert.Equal((batches - 2) * batchSize, CountAll(engine));
    }
}
