using System.Collections.Concurrent;
using ObjectRetrieval.Abstractions;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>
/// Holds back searches on chosen shards until the test releases them: a shard that is late on purpose,
/// through the real grain call path, without timers in the test.
/// </summary>
public sealed class ShardGates
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _closed = new(StringComparer.Ordinal);

    public void Close(string shardKey) => _closed[shardKey] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open(string shardKey)
    {
        if (_closed.TryRemove(shardKey, out TaskCompletionSource? gate)) gate.TrySetResult();
    }

    public Task WaitAsync(string shardKey) => _closed.TryGetValue(shardKey, out TaskCompletionSource? gate) ? gate.Task : Task.CompletedTask;
}

internal sealed class ShardGateFilter(ShardGates gates) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IIndexShardGrain && context.InterfaceMethod?.Name == nameof(IIndexShardGrain.SearchAsync))
        {
            await gates.WaitAsync(context.TargetId.Key.ToString()!);
        }

        await context.Invoke();
    }
}
