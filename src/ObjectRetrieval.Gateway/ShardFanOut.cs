using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Gateway;

/// <summary>The result of asking every shard: what came back, and which shards failed or missed the deadline.</summary>
public sealed record FanOutResult<T>(IReadOnlyList<T> Answers, IReadOnlyList<string> MissingShards)
{
    public bool Partial => MissingShards.Count > 0;

    /// <summary>How many of <see cref="MissingShards"/> missed the deadline (the others failed).</summary>
    public int TimedOut { get; init; }
}

public sealed record SearchOutcome(IReadOnlyList<ShardHit> Hits, IReadOnlyList<string> MissingShards)
{
    public bool Partial => MissingShards.Count > 0;
}

/// <summary>
/// Calls every shard of an index in parallel under one deadline and merges their answers. A shard that
/// throws or is late is named in the result instead of failing the request.
/// </summary>
public sealed class ShardFanOut(IGrainFactory grains, IOptions<GatewayOptions> options, TimeProvider time, ILogger<ShardFanOut> logger)
{
    public async Task<SearchOutcome> SearchAsync(IndexDefinition index, ShardQuery query, CancellationToken cancellationToken = default)
    {
        FanOutResult<IReadOnlyList<ShardHit>> answers = await CallAllAsync(index, shard => shard.SearchAsync(query), cancellationToken).ConfigureAwait(false);
        SearchMetrics.RecordShardTimeouts(index.Name, answers.TimedOut);
        return new SearchOutcome(Merge(answers.Answers, query.K), answers.MissingShards);
    }

    public Task<FanOutResult<ShardStats>> StatsAsync(IndexDefinition index, CancellationToken cancellationToken = default) =>
        CallAllAsync(index, shard => shard.StatsAsync(), cancellationToken);

    /// <summary>Groups images by shard and upserts each group; returns only when every shard has logged its part.</summary>
    public async Task<int> UpsertAsync(IndexDefinition index, IReadOnlyList<EncodedImage> images)
    {
        Task<int>[] writes = images
            .GroupBy(image => ShardRouting.ShardOf(image.ImageId, index.ShardCount))
            .Select(group => Shard(index, group.Key).UpsertAsync(group.ToArray()))
            .ToArray();
        return (await Task.WhenAll(writes).ConfigureAwait(false)).Sum();
    }

    public async Task<int> DeleteAsync(IndexDefinition index, IReadOnlyList<string> imageIds)
    {
        Task<int>[] deletes = imageIds
            .GroupBy(id => ShardRouting.ShardOf(id, index.ShardCount))
            .Select(group => Shard(index, group.Key).DeleteAsync(group.ToArray()))
            .ToArray();
        return (await Task.WhenAll(deletes).ConfigureAwait(false)).Sum();
    }

    public IIndexShardGrain Shard(IndexDefinition index, int shard) =>
        grains.GetGrain<IIndexShardGrain>(ShardRouting.ShardKey(index.Name, shard));

    /// <summary>Best <paramref name="k"/> over all shards, best first, ties by image id (the core's order).</summary>
    public static IReadOnlyList<ShardHit> Merge(IEnumerable<IReadOnlyList<ShardHit>> shardHits, int k)
    {
        var byImage = new Dictionary<string, ShardHit>(StringComparer.Ordinal);
        var lists = new List<IReadOnlyList<SearchHit>>();
        foreach (IReadOnlyList<ShardHit> hits in shardHits)
        {
            var list = new SearchHit[hits.Count];
            for (int i = 0; i < hits.Count; i++)
            {
                ShardHit hit = hits[i];
                list[i] = new SearchHit(hit.ImageId, hit.Score, 0);

                // An image answered by two shards (a move mid-search) keeps its better hit.
                if (!byImage.TryGetValue(hit.ImageId, out ShardHit? seen) || hit.Score > seen.Score) byImage[hit.ImageId] = hit;
            }

            lists.Add(list);
        }

        return TopKMerger.Merge(lists, k).Select(hit => byImage[hit.ImageId]).ToArray();
    }

    private async Task<FanOutResult<T>> CallAllAsync<T>(IndexDefinition index, Func<IIndexShardGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        TimeSpan deadline = options.Value.ShardDeadline;
        var calls = new Task<T>[index.ShardCount];
        for (int shard = 0; shard < calls.Length; shard++)
        {
            calls[shard] = call(Shard(index, shard)).WaitAsync(deadline, time, cancellationToken);
        }

        try
        {
            await Task.WhenAll(calls).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Looked at shard by shard below: one shard's failure must not fail the answer.
        }

        cancellationToken.ThrowIfCancellationRequested();
        var answers = new List<T>(calls.Length);
        var missing = new List<string>();
        int timedOut = 0;
        for (int shard = 0; shard < calls.Length; shard++)
        {
            Task<T> task = calls[shard];
            if (task.IsCompletedSuccessfully)
            {
                answers.Add(task.Result);
                continue;
            }

            string key = ShardRouting.ShardKey(index.Name, shard);
            missing.Add(key);
            Exception? error = task.Exception?.GetBaseException();
            if (error is TimeoutException)
            {
                timedOut++;
                logger.LogWarning("Shard {Shard} missed the {Deadline} ms deadline.", key, deadline.TotalMilliseconds);
            }
            else
            {
                logger.LogWarning(error, "Shard {Shard} failed.", key);
            }
        }

        return new FanOutResult<T>(answers, missing) { TimedOut = timedOut };
    }
}
