using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Shards;

namespace ObjectRetrieval.Grains;

/// <summary>
/// A thin Orleans adapter over the shard engine (<see cref="ShardEngine"/>): activation opens the engine, which
/// takes ownership of the shard's files and recovers it; a timer seals and starts compactions; calls are checked for
/// routing and timed for metrics. A shard whose stored data is damaged stays active in a refused state that its stats
/// and the silo's readiness report. A shard fenced by a newer owner lets go. Shards stay active: they are the index.
/// They are placed only on silos with the index role.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
[SiloRolePlacementFilter(SiloRoles.Index)]
// Shards are alike in size, so they are spread evenly by id over the index silos; resource-based placement
// would put every shard of a new index on the silo that first calls them, before load figures differ.
[Orleans.Placement.HashBasedPlacement]
public sealed class IndexShardGrain(
    IIndexStorage storage,
    IOptions<ShardOptions> options,
    ILogger<IndexShardGrain> logger) : Grain, IIndexShardGrain
{
    private IndexDefinition _definition = null!;
    private ShardEngine? _engine;
    private string? _problem;
    private int _shard;

    private string Key => this.GetPrimaryKeyString();

    private ShardEngine Engine => _engine ?? throw new InvalidOperationException($"Shard {Key} is not serving: {_problem}");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (string indexName, int shard) = ShardRouting.ParseShardKey(Key);
        _definition = await GrainFactory.GetGrain<IIndexGrain>(indexName).GetDefinitionAsync()
            ?? throw new UnknownIndexException(indexName, $"Shard {Key} belongs to index '{indexName}', which does not exist.");
        if (shard >= _definition.ShardCount) throw new InvalidOperationException($"Index '{indexName}' has {_definition.ShardCount} shards; {Key} is not one of them.");
        _shard = shard;
        try
        {
            _engine = await ShardEngine.OpenAsync(
                storage.OpenShard(Key), LayoutOf(_definition), options.Value.ToEngineOptions(), ShardMetrics.EventsOf(Key), logger, TimeProvider.System, cancellationToken);
            ShardMetrics.MarkRefused(Key, null);
        }
        catch (ShardCorruptException e)
        {
            // Loud, and the evidence stays: nothing is served or written until someone looks at the file.
            _problem = e.Message;
            ShardMetrics.MarkRefused(Key, e.Message);
            logger.LogCritical(e, "Shard {Shard} refused to start: {Problem}", Key, e.Message);
        }

        TimeSpan period = options.Value.MaintenanceInterval;
        this.RegisterGrainTimer(MaintainAsync, new GrainTimerCreationOptions(period, period) { Interleave = false, KeepAlive = false });
        PublishSize();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ShardMetrics.Withdraw(Key);
        if (_engine is not null) await _engine.DisposeAsync();
    }

    /// <summary>The engine's view of the index definition.</summary>
    public static ShardLayout LayoutOf(IndexDefinition definition) => new(
        definition.Name,
        definition.Dimension,
        definition.Codec,
        definition.Ivf is { } ivf ? new ShardIvf(ivf.ListCount, ivf.DefaultNProbe, ivf.TrainAtVectors) : null,
        definition.KeepDense);

    public async Task<int> UpsertAsync(IReadOnlyList<EncodedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var batch = new ShardUpsert[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            int owner = ShardRouting.ShardOf(images[i].ImageId, _definition.ShardCount);
            if (owner != _shard) throw new ArgumentException($"Image '{images[i].ImageId}' belongs to shard {owner}, not {Key}.");
            batch[i] = new ShardUpsert(images[i].ImageId, images[i].Representation);
        }

        try
        {
            int stored = await WriteAsync(engine => engine.Writer.UpsertAsync(batch));
            PublishSize();
            return stored;
        }
        catch (ShardValidationException e)
        {
            // Callers see the plain argument error (the engine's type is not an Orleans message).
            throw new ArgumentException(e.Message);
        }
    }

    public async Task<int> DeleteAsync(IReadOnlyList<string> imageIds)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        int deleted = await WriteAsync(engine => engine.Writer.DeleteAsync(imageIds));
        PublishSize();
        return deleted;
    }

    public Task<IReadOnlyList<ShardHit>> SearchAsync(ShardQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        long started = Stopwatch.GetTimestamp();
        IReadOnlyList<ShardMatch> matches = Engine.Reader.Search(new ShardSearch(query.Vector, query.K, query.Mode, query.NProbe));
        var hits = new ShardHit[matches.Count];
        for (int i = 0; i < hits.Length; i++)
        {
            ShardMatch match = matches[i];
            RegionMask? region = query.Explain && match.MatchedCluster is int cluster
                ? new RegionMask(match.Image.GridWidth, match.Image.GridHeight, match.Image.RegionOf(cluster))
                : null;
            hits[i] = new ShardHit(match.ImageId, match.Image.SourceUri, match.Score, match.MatchedCluster, region);
        }

        ShardMetrics.RecordSearch(Key, query.Mode, Stopwatch.GetElapsedTime(started));
        return Task.FromResult<IReadOnlyList<ShardHit>>(hits);
    }

    public Task<ShardStats> StatsAsync()
    {
        if (_engine is null) return Task.FromResult(new ShardStats(Key, 0, 0, 0, 0, 0, RuntimeIdentity, Problem: _problem));
        ShardEngineStats stats = _engine.Stats;
        (long global, long cluster, long dense) = _engine.Reader.MemoryByMode;
        return Task.FromResult(new ShardStats(
            Key, stats.Images, stats.Vectors, stats.MemoryBytes, stats.Segments, (int)Math.Min(int.MaxValue, stats.LogRecords), RuntimeIdentity,
            new ModeMemory(global, cluster, dense), null, stats.Epoch, stats.QuarantinedRecords, stats.LogBytes));
    }

    public Task<StoredImage?> GetImageAsync(string imageId) => Task.FromResult(
        Engine.Reader.Find(imageId) is { } image ? new StoredImage(imageId, image.SourceUri, image.GridWidth, image.GridHeight) : null);

    public Task<IReadOnlyList<IReadOnlyDictionary<string, string>?>> MetadataAsync(IReadOnlyList<string> imageIds)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ShardReader reader = Engine.Reader;
        return Task.FromResult<IReadOnlyList<IReadOnlyDictionary<string, string>?>>(imageIds.Select(reader.MetadataOf).ToArray());
    }

    public async Task SealAsync()
    {
        await WriteAsync(engine => engine.Writer.SealAsync());
        PublishSize();
    }

    public async Task ReleaseAsync()
    {
        if (_engine is { } engine)
        {
            _engine = null;
            _problem = "its index is being deleted.";
            ShardMetrics.Withdraw(Key);
            await engine.DisposeAsync();
        }

        DeactivateOnIdle();
    }

    /// <summary>Runs a write; a writer fenced by a newer owner deactivates so the next call finds the owner's shard.</summary>
    private async Task<T> WriteAsync<T>(Func<ShardEngine, Task<T>> write)
    {
        try
        {
            return await write(Engine);
        }
        catch (ShardFencedException e)
        {
            logger.LogWarning(e, "Shard {Shard} lost ownership of its files; deactivating.", Key);
            DeactivateOnIdle();
            throw new InvalidOperationException($"Shard {Key} is owned by another writer now; retry.", e);
        }
    }

    /// <summary>The size gauges read what the shard last published: observable callbacks must not call grains.</summary>
    private void PublishSize()
    {
        if (_engine is null) return;
        ShardEngineStats stats = _engine.Stats;
        ShardMetrics.Publish(Key, stats.Images, stats.Vectors, stats.MemoryBytes, stats.LogBytes, stats.Segments);
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        if (_engine is not { } engine) return;
        try
        {
            if (engine.Writer.ShouldSeal) await WriteAsync(e => e.Writer.SealAsync(cancellationToken));

            // Compaction runs in the background, outside this turn; the timer only starts it.
            _ = engine.Writer.StartCompaction();
            await engine.Writer.MaintainMemoryAsync(cancellationToken);
            PublishSize();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The log still holds everything; the next tick tries again.
            logger.LogWarning(e, "Maintenance of shard {Shard} failed.", Key);
        }
    }
}
