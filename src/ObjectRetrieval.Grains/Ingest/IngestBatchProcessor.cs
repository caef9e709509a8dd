using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>
/// What an encoder worker does with one leased batch: asks the shards which images they already hold at
/// the listed version, downloads and encodes the rest (at most <see cref="IngestSettings.MaxImagesInFlight"/>
/// per silo at a time, all through the silo's one batching encoder), and upserts the representations
/// grouped by shard. Returns only after every shard acknowledged its upsert. An image whose encoding throws
/// anything but a typed rejection is retried on its own, each attempt under a timeout, and then recorded as
/// poison: one bad image never fails its batch, so the batch is not re-leased forever.
/// </summary>
public sealed class IngestBatchProcessor(
    IGrainFactory grains,
    IngestSourceReader sources,
    IIngestImageEncoder encoder,
    IngestSiloThrottle throttle,
    IOptions<IngestSettings> settings,
    ILogger<IngestBatchProcessor> logger)
{
    /// <summary>The failure reason of an image isolated after its encoding kept failing unexpectedly.</summary>
    public const string PoisonReason = "poison";

    private enum Plan
    {
        Encode,
        Unchanged,

        /// <summary>Already stored at this version by this job (the batch is being redone after a lost report).</summary>
        Done,
        Failed,
    }

    public async Task<IngestBatchResult> ProcessAsync(IngestLease lease, CancellationToken cancellationToken)
    {
        IndexDefinition definition = await grains.GetGrain<IIndexGrain>(lease.Index).GetDefinitionAsync()
            ?? throw new InvalidOperationException($"Index '{lease.Index}' does not exist.");
        if (encoder.Dimension != definition.Dimension)
        {
            throw new InvalidOperationException($"This silo's encoder gives dimension {encoder.Dimension}; index '{definition.Name}' holds {definition.Dimension}.");
        }

        int n = lease.Items.Count;
        string[] ids = lease.Items.Select(item => sources.ImageIdOf(lease.Source, item)).ToArray();
        int[] shards = ids.Select(id => ShardRouting.ShardOf(id, definition.ShardCount)).ToArray();
        var plans = new Plan[n];
        var failures = new IngestFailure?[n];
        for (int i = 0; i < n; i++)
        {
            if (lease.Items[i].Size > lease.MaxBytes)
            {
                plans[i] = Plan.Failed;
                failures[i] = new IngestFailure(lease.Items[i].Name, "TooLarge", $"{lease.Items[i].Size} bytes; the limit is {lease.MaxBytes}.");
            }
        }

        await ClassifyAsync(lease, definition, ids, shards, plans);

        var encoded = new ImageRepresentation?[n];
        await Task.WhenAll(Enumerable.Range(0, n).Where(i => plans[i] == Plan.Encode).Select(async i =>
        {
            try
            {
                (encoded[i], failures[i]) = await EncodeIsolatedAsync(lease, definition, lease.Items[i], ids[i], cancellationToken);
                if (failures[i] is not null) plans[i] = Plan.Failed;
            }
            catch (ImageRejectedException e)
            {
                plans[i] = Plan.Failed;
                failures[i] = new IngestFailure(lease.Items[i].Name, e.Reason, e.Message);
            }
            catch (SourceReadException e)
            {
                plans[i] = Plan.Failed;
                failures[i] = new IngestFailure(lease.Items[i].Name, e.Reason, e.Message);
            }
        }));

        cancellationToken.ThrowIfCancellationRequested();
        await Task.WhenAll(Enumerable.Range(0, n).Where(i => encoded[i] is not null).GroupBy(i => shards[i]).Select(group =>
            grains.GetGrain<IIndexShardGrain>(ShardRouting.ShardKey(definition.Name, group.Key))
                .UpsertAsync(group.Select(i => EncodedImage.From(encoded[i]!)).ToArray())));

        int indexed = plans.Count(p => p is Plan.Encode or Plan.Done);
        int unchanged = plans.Count(p => p == Plan.Unchanged);
        logger.LogDebug("Batch {Batch} of job {Job}: {Indexed} indexed, {Unchanged} unchanged, {Failed} failed.", lease.BatchId, lease.JobId, indexed, unchanged, n - indexed - unchanged);
        var result = new IngestBatchResult(lease.BatchId, lease.LeaseId, indexed, unchanged, failures.OfType<IngestFailure>().ToArray());
        IngestMetrics.RecordBatch(lease.Index, result);
        return result;
    }

    /// <summary>Marks images the shards hold at the listed version: unchanged, or done when this job stored them.</summary>
    private async Task ClassifyAsync(IngestLease lease, IndexDefinition definition, string[] ids, int[] shards, Plan[] plans)
    {
        await Task.WhenAll(Enumerable.Range(0, ids.Length).Where(i => plans[i] == Plan.Encode).GroupBy(i => shards[i]).Select(async group =>
        {
            int[] members = group.ToArray();
            IReadOnlyList<IReadOnlyDictionary<string, string>?> stored = await grains
                .GetGrain<IIndexShardGrain>(ShardRouting.ShardKey(definition.Name, group.Key))
                .MetadataAsync(members.Select(i => ids[i]).ToArray());
            for (int m = 0; m < members.Length; m++)
            {
                int i = members[m];
                if (stored[m] is not { } metadata || !metadata.TryGetValue(IngestNames.VersionMetadata, out string? version) || version != lease.Items[i].Version) continue;
                plans[i] = metadata.TryGetValue(IngestNames.JobMetadata, out string? job) && job == lease.JobId ? Plan.Done : Plan.Unchanged;
            }
        }));
    }

    /// <summary>The representation, or (after the last failed attempt) the image's poison record.</summary>
    private async Task<(ImageRepresentation? Encoded, IngestFailure? Poison)> EncodeIsolatedAsync(
        IngestLease lease, IndexDefinition definition, IngestItem item, string imageId, CancellationToken cancellationToken)
    {
        IngestSettings limits = settings.Value;
        for (int attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(limits.ImageTimeout);
            string problem;
            try
            {
                return (await EncodeAsync(lease, definition, item, imageId, timeout.Token), null);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                problem = $"TimeoutException: no result within {limits.ImageTimeout.TotalSeconds:0.#} s";
            }
            catch (Exception e) when (e is not (ImageRejectedException or SourceReadException or OperationCanceledException))
            {
                problem = $"{e.GetType().Name}: {e.Message}";
            }

            logger.LogWarning("Image {Image} of job {Job}, attempt {Attempt} of {Attempts}: {Problem}", item.Name, lease.JobId, attempt, limits.PoisonAttempts, problem);
            if (attempt >= limits.PoisonAttempts)
            {
                return (null, new IngestFailure(item.Name, PoisonReason, $"Failed {attempt} times; last: {problem}"));
            }
        }
    }

    private async Task<ImageRepresentation> EncodeAsync(IngestLease lease, IndexDefinition definition, IngestItem item, string imageId, CancellationToken cancellationToken)
    {
        using IDisposable slot = await throttle.ImageSlotAsync(cancellationToken);
        byte[] bytes = await sources.ReadAsync(lease.Source, item, cancellationToken);
        var metadata = new Dictionary<string, string>
        {
            [IngestNames.VersionMetadata] = item.Version,
            [IngestNames.JobMetadata] = lease.JobId,
        };
        var image = new IngestImage(imageId, bytes, sources.UriOf(lease.Source, item), metadata);
        return await encoder.EncodeAsync(image, definition.AggregationSettings, definition.KeepDense, cancellationToken);
    }
}
