using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;

namespace ObjectRetrieval.Grains;

/// <summary>
/// A thin Orleans adapter around <see cref="ShardContents"/>: writes go to the shard's write-ahead log
/// first and to memory second; activation rebuilds memory from the newest segment and the log
/// (IndexShardGrain.Persistence.cs). Shards stay active: they are the index. They are placed only on silos
/// with the index role.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
[SiloRolePlacementFilter(SiloRoles.Index)]
// Shards are alike in size, so they are spread evenly by id over the index silos; resource-based placement
// would put every shard of a new index on the silo that first calls them, before load figures differ.
[Orleans.Placement.HashBasedPlacement]
public sealed partial class IndexShardGrain(
    IIndexStorage storage,
    IOptions<ShardOptions> options,
    ILogger<IndexShardGrain> logger) : Grain, IIndexShardGrain
{
    private IndexDefinition _definition = null!;
    private ShardContents _contents = null!;
    private IShardStore _store = null!;
    private int _shard;

    private string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (string indexName, int shard) = ShardRouting.ParseShardKey(Key);
        _definition = await GrainFactory.GetGrain<IIndexGrain>(indexName).GetDefinitionAsync()
            ?? throw new InvalidOperationException($"Shard {Key} belongs to index '{indexName}', which does not exist.");
        if (shard >= _definition.ShardCount) throw new InvalidOperationException($"Index '{indexName}' has {_definition.ShardCount} shards; {Key} is not one of them.");
        _shard = shard;
        _contents = new ShardContents(_definition);
        _store = storage.OpenShard(Key);
        await RecoverAsync(cancellationToken);

        TimeSpan period = options.Value.MaintenanceInterval;
        this.RegisterGrainTimer(MaintainAsync, new GrainTimerCreationOptions(period, period) { Interleave = false, KeepAlive = false });
        PublishSize();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ShardMetrics.Withdraw(Key);
        return Task.CompletedTask;
    }

    public async Task<int> UpsertAsync(IReadOnlyList<EncodedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) return 0;

        // Parse and check the whole batch before logging any of it: a batch is stored whole or refused.
        var parsed = new ImageRepresentation[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            ImageRepresentation image = RepresentationSerializer.Deserialize(images[i].Representation);
            if (image.ImageId != images[i].ImageId) throw new ArgumentException($"Record for '{images[i].ImageId}' holds image '{image.ImageId}'.");
            int owner = ShardRouting.ShardOf(image.ImageId, _definition.ShardCount);
            if (owner != _shard) throw new ArgumentException($"Image '{image.ImageId}' belongs to shard {owner}, not {Key}.");
            if (_contents.Problem(image) is { } problem) throw new ArgumentException(problem);
            parsed[i] = image;
        }

        using var log = new MemoryStream();
        foreach (EncodedImage image in images) ShardLog.AppendUpsert(log, image.Representation);
        await AppendToLogAsync(log, images.Count);

        foreach (ImageRepresentation image in parsed) _contents.Upsert(image);
        PublishSize();
        return parsed.Length;
    }

    public async Task<int> DeleteAsync(IReadOnlyList<string> imageIds)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        string[] present = imageIds.Where(_contents.Contains).Distinct(StringComparer.Ordinal).ToArray();
        if (present.Length == 0) return 0;

        using var log = new MemoryStream();
        foreach (string id in present) ShardLog.AppendDelete(log, id);
        await AppendToLogAsync(log, present.Length);

        foreach (string id in present) _contents.Delete(id);
        PublishSize();
        return present.Length;
    }

    public Task<IReadOnlyList<ShardHit>> SearchAsync(ShardQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Vector.Length != _definition.Dimension) throw new ArgumentException($"Query has dimension {query.Vector.Length}; index '{_definition.Name}' holds {_definition.Dimension}.");
        if (query.K < 1) throw new ArgumentOutOfRangeException(nameof(query), query.K, "k must be at least 1.");
        long started = Stopwatch.GetTimestamp();
        IReadOnlyList<ShardHit> hits = _contents.Search(query);
        ShardMetrics.RecordSearch(Key, query.Mode, Stopwatch.GetElapsedTime(started));
        return Task.FromResult(hits);
    }

    public Task<ShardStats> StatsAsync() => Task.FromResult(new ShardStats(
        Key, _contents.ImageCount, _contents.VectorCount, _contents.MemoryBytes, _segmentCount, _logRecords, RuntimeIdentity, _contents.MemoryByMode));

    public Task<StoredImage?> GetImageAsync(string imageId) => Task.FromResult(
        _contents.Find(imageId) is { } image ? new StoredImage(imageId, image.SourceUri, image.GridWidth, image.GridHeight) : null);

    public Task<IReadOnlyList<IReadOnlyDictionary<string, string>?>> MetadataAsync(IReadOnlyList<string> imageIds)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        return Task.FromResult<IReadOnlyList<IReadOnlyDictionary<string, string>?>>(imageIds.Select(_contents.MetadataOf).ToArray());
    }

    /// <summary>The size gauges read what the shard last published: observable callbacks must not call grains.</summary>
    private void PublishSize() => ShardMetrics.Publish(Key, _contents.ImageCount, _contents.VectorCount, _contents.MemoryBytes);

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        try
        {
            ShardOptions settings = options.Value;
            if (_logBytes >= settings.SealLogBytes || _logRecords >= settings.SealLogRecords)
            {
                await SealCoreAsync(cancellationToken);
            }

            _contents.Maintain();
            PublishSize();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The log still holds everything; the next tick tries again.
            logger.LogWarning(e, "Maintenance of shard {Shard} failed.", Key);
        }
    }
}
