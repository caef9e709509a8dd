using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Shards.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>Shard reads do not wait for the grain's writes: a write held mid-I/O, a read through the real grain call path.</summary>
public sealed class InterleavingTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static async Task<int> CountAsync(IIndexShardGrain shard) =>
        (await shard.SearchAsync(new ShardQuery(HashingQueryEmbedder.Embed("anything"), 1000, ScoringMode.Global, null, Explain: false)).WaitAsync(Deadline)).Count;

    private static async Task RunAsync(Func<StoreGate, IIndexShardGrain, ShardFanOut, IndexDefinition, Task> test)
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-interleave-" + Guid.NewGuid().ToString("N"));
        var gate = new StoreGate();
        try
        {
            await using TestClusterHandle handle = await TestClusterHandle.StartAsync(1, () => new GatedIndexStorage(new LocalDirectoryIndexStorage(directory), gate));
            IndexDefinition index = TestData.Definition("interleave", shards: 1);
            await handle.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index);
            var fanOut = new ShardFanOut(handle.Client, Options.Create(new GatewayOptions { ShardDeadline = TimeSpan.FromSeconds(30) }), TimeProvider.System, NullLogger<ShardFanOut>.Instance);
            await fanOut.UpsertAsync(index, TestData.Images(20, seed: 3).Select(EncodedImage.From).ToArray());
            try
            {
                await test(gate, fanOut.Shard(index, 0), fanOut, index);
            }
            finally
            {
                // A held write would keep the silo from stopping.
                gate.ReleaseAll();
            }
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public Task A_shard_answers_searches_stats_and_lookups_while_an_upsert_is_held_in_its_log_append() => RunAsync(async (gate, shard, fanOut, index) =>
    {
        TaskCompletionSource release = gate.Hold(operation => operation == nameof(IShardStore.AppendAsync), out Task held);
        ImageRepresentation[] more = TestData.Images(30, seed: 4)[20..];
        Task upsert = fanOut.UpsertAsync(index, more.Select(EncodedImage.From).ToArray());
        await held.WaitAsync(Deadline);

        Assert.Equal(20, await CountAsync(shard));
        Assert.Equal(20, (await shard.StatsAsync().WaitAsync(Deadline)).Images);
        Assert.Null(await shard.GetImageAsync(more[0].ImageId).WaitAsync(Deadline));
        Assert.False(upsert.IsCompleted);

        release.SetResult();
        await upsert.WaitAsync(Deadline);
        Assert.Equal(30, await CountAsync(shard));
    });

    [Fact]
    public Task A_shard_answers_searches_while_a_seal_is_held_writing_its_segment() => RunAsync(async (gate, shard, _, _) =>
    {
        TaskCompletionSource release = gate.Hold(operation => operation == nameof(IShardStore.CreateAsync), out Task held);
        Task seal = shard.SealAsync();
        await held.WaitAsync(Deadline);

        Assert.Equal(20, await CountAsync(shard));
        Assert.Equal(0, (await shard.StatsAsync().WaitAsync(Deadline)).Segments);
        Assert.False(seal.IsCompleted);

        release.SetResult();
        await seal.WaitAsync(Deadline);
        Assert.Equal(1, (await shard.StatsAsync().WaitAsync(Deadline)).Segments);
        Assert.Equal(20, await CountAsync(shard));
    });

    /// <summary>Holds the first store call that matches until the test releases it.</summary>
    private sealed class StoreGate
    {
        private readonly Lock _lock = new();
        private Func<string, bool>? _matches;
        private TaskCompletionSource? _held;
        private TaskCompletionSource? _release;

        public TaskCompletionSource Hold(Func<string, bool> matches, out Task held)
        {
            lock (_lock)
            {
                _matches = matches;
                _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                held = _held.Task;
                return _release;
            }
        }

        public void ReleaseAll()
        {
            lock (_lock) _release?.TrySetResult();
        }

        public Task EnterAsync(string operation)
        {
            lock (_lock)
            {
                if (_matches is null || !_matches(operation)) return Task.CompletedTask;
                _matches = null;
                _held!.SetResult();
                return _release!.Task;
            }
        }
    }

    private sealed class GatedIndexStorage(IIndexStorage inner, StoreGate gate) : IIndexStorage
    {
        public string Description => inner.Description;

        public Task<byte[]?> ReadDefinitionAsync(string indexName, CancellationToken cancellationToken = default) => inner.ReadDefinitionAsync(indexName, cancellationToken);

        public Task WriteDefinitionAsync(string indexName, ReadOnlyMemory<byte> definition, CancellationToken cancellationToken = default) =>
            inner.WriteDefinitionAsync(indexName, definition, cancellationToken);

        public IShardStore OpenShard(string shardKey) => new GatedShardStore(inner.OpenShard(shardKey), gate);

        public Task ProbeAsync(CancellationToken cancellationToken = default) => inner.ProbeAsync(cancellationToken);

        public Task DeleteIndexAsync(string indexName, CancellationToken cancellationToken = default) => inner.DeleteIndexAsync(indexName, cancellationToken);

        public Task<IReadOnlyList<string>> ListIndexesAsync(CancellationToken cancellationToken = default) => inner.ListIndexesAsync(cancellationToken);
    }

    private sealed class GatedShardStore(IShardStore inner, StoreGate gate) : IShardStore
    {
        public int MaxAppendBytes => inner.MaxAppendBytes;

        public string Describe(string name) => inner.Describe(name);

        public Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default) => inner.AcquireAsync(cancellationToken);

        public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

        public Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default) => inner.ReadAsync(name, cancellationToken);

        public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

        public Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default) =>
            inner.ReplaceAsync(name, content, expectedVersion, cancellationToken);

        public async Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
        {
            if (ShardFileNames.IsSegment(name)) await gate.EnterAsync(nameof(CreateAsync));
            await inner.CreateAsync(name, write, cancellationToken);
        }

        public Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default) => inner.CreateLogAsync(name, cancellationToken);

        public async Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default)
        {
            await gate.EnterAsync(nameof(AppendAsync));
            return await inner.AppendAsync(name, records, expectedLength, version, cancellationToken);
        }

        public Task<string> FenceAsync(string name, CancellationToken cancellationToken = default) => inner.FenceAsync(name, cancellationToken);

        public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
