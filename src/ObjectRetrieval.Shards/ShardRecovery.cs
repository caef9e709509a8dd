using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards.Records;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards;

/// <summary>A record that failed on replay: kept in the quarantine file with its reason, left out of the shard.</summary>
public sealed record QuarantinedRecord(string File, long Offset, string ImageId, string Reason, string RecordBase64);

/// <summary>Opening a shard, step by step: take ownership, load segments, replay logs, start a fresh log, clear garbage.</summary>
internal sealed class ShardRecovery(IShardStore store, ShardLayout layout, IShardEvents events, ILogger logger)
{
    // Another writer racing this one for ownership, or creating logs as it goes, makes a step start over; not forever.
    private const int Attempts = 5;

    private readonly List<QuarantinedRecord> _quarantine = [];

    public ShardContents Contents { get; } = new(layout);

    public long ReplayedRecords { get; private set; }

    public int SegmentCount { get; private set; }

    public long QuarantinedRecords => _quarantine.Count;

    public async Task<ShardWriter> RunAsync(ShardEngineOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        (ShardManifest manifest, string version) = await TakeOwnershipAsync(cancellationToken).ConfigureAwait(false);
        foreach (SegmentEntry segment in manifest.Segments) await LoadSegmentAsync(segment, cancellationToken).ConfigureAwait(false);
        SegmentCount = manifest.Segments.Count;
        (ShardLogState log, long logRecords, long logBytes) = await ReplayLogsAndStartOneAsync(manifest, cancellationToken).ConfigureAwait(false);
        if (_quarantine.Count > 0) await WriteQuarantineAsync(manifest.Epoch, cancellationToken).ConfigureAwait(false);
        await CollectGarbageAsync(manifest, cancellationToken).ConfigureAwait(false);
        return new ShardWriter(store, layout, options, events, logger, time, Contents, manifest, version, log, logRecords, logBytes, _quarantine.Count);
    }

    /// <summary>A new epoch in the manifest, written only over the version read: of two writers starting together, one wins.</summary>
    private async Task<(ShardManifest Manifest, string Version)> TakeOwnershipAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            StoredFile? file = await store.ReadAsync(ShardFileNames.Manifest, cancellationToken).ConfigureAwait(false);
            ShardManifest current = file is null ? ShardManifest.Empty : ShardManifest.Parse(file.Content, store.Describe(ShardFileNames.Manifest));
            ShardManifest owned = current with { Epoch = current.Epoch + 1 };
            try
            {
                string version = await store.ReplaceAsync(ShardFileNames.Manifest, owned.ToBytes(), file?.Version, cancellationToken).ConfigureAwait(false);
                return (owned, version);
            }
            catch (StorePreconditionException e)
            {
                if (attempt == Attempts) throw new ShardFencedException($"Could not take ownership of {store.Describe(ShardFileNames.Manifest)}: another writer keeps changing it.", e);
            }
        }
    }

    private async Task LoadSegmentAsync(SegmentEntry segment, CancellationToken cancellationToken)
    {
        string file = store.Describe(segment.Name);
        Stream data;
        try
        {
            data = await store.OpenReadAsync(segment.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException e)
        {
            throw new ShardCorruptException(file, 0, $"the manifest lists this segment but it is missing ({e.Message}).");
        }

        await using (data.ConfigureAwait(false))
        {
            await foreach (ShardRecord record in SegmentReader.ReadAsync(data, file, cancellationToken).ConfigureAwait(false))
            {
                if (record.Kind == ShardRecordKind.Delete) Contents.RestoreDelete(record.Key);
                else if (Parse(record, file) is { } image) Contents.Restore(image);
            }
        }
    }

    private async Task<(ShardLogState Log, long Records, long Bytes)> ReplayLogsAndStartOneAsync(ShardManifest manifest, CancellationToken cancellationToken)
    {
        var replayed = new HashSet<long>();
        long records = 0;
        long bytes = 0;
        for (int attempt = 1; ; attempt++)
        {
            long[] logs = (await store.ListAsync(cancellationToken).ConfigureAwait(false))
                .Select(name => ShardFileNames.TryParseLog(name, out long sequence) ? sequence : -1)
                .Where(sequence => sequence >= manifest.FirstLiveLog)
                .Order()
                .ToArray();
            foreach (long sequence in logs)
            {
                if (!replayed.Add(sequence)) continue;
                (long count, long length) = await ReplayLogAsync(sequence, cancellationToken).ConfigureAwait(false);
                records += count;
                bytes += length;
            }

            long next = logs.Length > 0 ? logs[^1] + 1 : manifest.FirstLiveLog;
            try
            {
                string version = await store.CreateLogAsync(ShardFileNames.Log(next), cancellationToken).ConfigureAwait(false);
                ReplayedRecords = records;
                return (new ShardLogState(next, 0, version), records, bytes);
            }
            catch (StorePreconditionException e)
            {
                // A stale writer started that log after the listing: fence and replay it too, then start the one after.
                if (attempt == Attempts) throw new ShardFencedException($"Could not start a log in {store.Describe(string.Empty)}: another writer keeps creating them.", e);
            }
        }
    }

    /// <summary>Fences the log (a stale writer's next append fails), then replays its whole records.</summary>
    private async Task<(long Records, long Bytes)> ReplayLogAsync(long sequence, CancellationToken cancellationToken)
    {
        string name = ShardFileNames.Log(sequence);
        string file = store.Describe(name);
        await store.FenceAsync(name, cancellationToken).ConfigureAwait(false);
        StoredFile? log = await store.ReadAsync(name, cancellationToken).ConfigureAwait(false);
        if (log is null) return (0, 0);
        LogScan scan = LogScan.Of(log.Content);
        if (scan.CorruptAt >= 0)
        {
            throw new ShardCorruptException(file, scan.CorruptAt, $"a damaged record is followed by whole records ({log.Content.Length} bytes, {scan.Records.Count} whole records before it).");
        }

        if (scan.TornTailAt >= 0)
        {
            logger.LogWarning(
                "Shard log {File} ends in a record cut short at byte {Offset} ({Bytes} bytes): an append interrupted before it was acknowledged; the {Records} whole records before it are kept.",
                file, scan.TornTailAt, log.Content.Length - scan.TornTailAt, scan.Records.Count);
        }

        foreach (ShardRecord record in scan.Records)
        {
            if (record.Kind == ShardRecordKind.Delete) Contents.Delete([record.Key]);
            else if (Parse(record, file) is { } image) Contents.Upsert([image]);
        }

        return (scan.Records.Count, scan.WholeBytes);
    }

    /// <summary>The record's image if it passes every check; otherwise it is quarantined and null.</summary>
    private ImageRepresentation? Parse(ShardRecord record, string file)
    {
        string? reason;
        ImageRepresentation? image = null;
        try
        {
            image = RepresentationSerializer.Deserialize(record.Value.Span);
            reason = image.ImageId != record.Key
                ? $"The record is keyed '{record.Key}' but holds image '{image.ImageId}'."
                : ImageValidation.Problem(image, layout);
        }
        catch (CorruptRepresentationException e)
        {
            reason = e.Message;
        }

        if (reason is null) return image;
        _quarantine.Add(new QuarantinedRecord(file, record.Offset, record.Key, reason, Convert.ToBase64String(record.Value.Span)));
        logger.LogError("Shard record {File} at byte {Offset} (image '{ImageId}') fails on replay and is quarantined: {Reason}", file, record.Offset, record.Key, reason);
        return null;
    }

    private async Task WriteQuarantineAsync(long epoch, CancellationToken cancellationToken)
    {
        var lines = new StringBuilder();
        foreach (QuarantinedRecord record in _quarantine) lines.Append(JsonSerializer.Serialize(record, QuarantineJson)).Append('\n');
        await store.ReplaceAsync(ShardFileNames.Quarantine(epoch), Encoding.UTF8.GetBytes(lines.ToString()), expectedVersion: null, cancellationToken).ConfigureAwait(false);
        events.Quarantined(_quarantine.Count);
    }

    private static readonly JsonSerializerOptions QuarantineJson = new(JsonSerializerDefaults.Web);

    /// <summary>Segments the manifest does not list (an interrupted seal or compaction), logs it covers, temporary files of interrupted writes.</summary>
    private async Task CollectGarbageAsync(ShardManifest manifest, CancellationToken cancellationToken)
    {
        var live = manifest.Segments.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string name in await store.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            bool garbage = (ShardFileNames.IsSegment(name) && !live.Contains(name))
                || (ShardFileNames.TryParseLog(name, out long sequence) && sequence < manifest.FirstLiveLog)
                || ShardFileNames.IsTemporary(name);
            if (garbage) await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The log appends go to: its sequence number, its length and version as last written.</summary>
internal sealed record ShardLogState(long Sequence, long Length, string Version)
{
    public string Name => ShardFileNames.Log(Sequence);
}
