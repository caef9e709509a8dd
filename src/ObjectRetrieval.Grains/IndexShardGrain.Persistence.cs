using Microsoft.Extensions.Logging;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Grains.Storage;

namespace ObjectRetrieval.Grains;

public sealed partial class IndexShardGrain
{
    // The log generation appends go to: the generation of the newest segment (0 before the first seal).
    private long _generation;
    private long _logBytes;
    private int _logRecords;
    private int _segmentCount;

    // The newest segment, which holds every live image not in the contents' unsealed set; null before the first seal.
    private long? _segment;

    public Task SealAsync() => SealCoreAsync(CancellationToken.None);

    private async Task AppendToLogAsync(MemoryStream records, int count)
    {
        await _store.AppendLogAsync(_generation, records.GetBuffer().AsMemory(0, (int)records.Length));
        _logBytes += records.Length;
        _logRecords += count;
    }

    /// <summary>Newest segment, then every log from its generation on, in order; older files are leftovers of an interrupted seal.</summary>
    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<long> segments = await _store.ListSegmentsAsync(cancellationToken);
        long segment = segments.Count > 0 ? segments[^1] : 0;
        int images = 0;
        if (segments.Count > 0)
        {
            await using (Stream data = await _store.OpenSegmentAsync(segment, cancellationToken))
            {
                while (await RepresentationSerializer.ReadAsync(data, cancellationToken) is { } image)
                {
                    _contents.Restore(image);
                    images++;
                }
            }

            _segment = segment;
        }

        _generation = segment;
        bool torn = false;
        int replayed = 0;
        foreach (long generation in await _store.ListLogsAsync(cancellationToken))
        {
            if (generation < segment) continue;
            byte[] log = await _store.ReadLogAsync(generation, cancellationToken);
            List<ShardLogEntry> entries = ShardLog.Read(log, out long tornAt);
            foreach (ShardLogEntry entry in entries)
            {
                if (entry.Kind == ShardLogEntryKind.Delete) _contents.Delete(entry.ImageId);
                else _contents.Upsert(RepresentationSerializer.Deserialize(entry.Representation.Span));
            }

            replayed += entries.Count;
            _generation = generation;
            _logBytes = log.Length;
            _logRecords = entries.Count;
            if (tornAt >= 0)
            {
                torn = true;
                logger.LogWarning("Shard {Shard}: log {Generation} ends in a torn record at byte {Offset} (an append cut short); it was never acknowledged and is dropped.", Key, generation, tornAt);
            }
        }

        _segmentCount = segments.Count > 0 ? 1 : 0;
        logger.LogInformation("Shard {Shard} recovered {Images} images from segment {Segment} and {Records} log records: {Live} live.",
            Key, images, segment, replayed, _contents.ImageCount);

        // Appending after a torn tail would hide later records behind it: seal, so new appends start a fresh log.
        if (torn) await SealCoreAsync(cancellationToken);
        await DeleteOlderThanAsync(_generation, segments, cancellationToken);
    }

    /// <summary>
    /// Writes every live image as segment G+1 and moves appends to log G+1; then segment G and log G are garbage.
    /// Images untouched since segment G are copied from it record by record, as raw bytes (memory holds only their
    /// codes); the images upserted since follow from memory. The segment streams from one store to the other, so a
    /// seal holds one record at a time, whatever the segment's size. A crash at any point leaves either the old pair
    /// or the new segment, both complete.
    /// </summary>
    private async Task SealCoreAsync(CancellationToken cancellationToken)
    {
        long next = _generation + 1;
        int images = 0;
        long bytes = 0;
        await _store.WriteSegmentAsync(next, async (segment, cancel) =>
        {
            if (_segment is { } previous)
            {
                await using Stream data = await _store.OpenSegmentAsync(previous, cancel);
                while (await RepresentationSerializer.ReadRecordAsync(data, cancel) is { } record)
                {
                    if (!_contents.IsCurrentInSegment(RepresentationSerializer.Deserialize(record).ImageId)) continue;
                    await segment.WriteAsync(record, cancel);
                    images++;
                    bytes += record.Length;
                }
            }

            foreach (ImageRepresentation image in _contents.Unsealed)
            {
                byte[] record = RepresentationSerializer.Serialize(image);
                await segment.WriteAsync(record, cancel);
                images++;
                bytes += record.Length;
            }

            // Each live image is either unsealed or current in segment G, exactly once; anything else means segment G
            // is not what memory was built from, and sealing would lose or duplicate images. Throwing here abandons
            // segment G+1 before it becomes visible: the old pair stays.
            if (images != _contents.ImageCount)
            {
                throw new InvalidOperationException($"Shard {Key}: segment {next} would hold {images} images but {_contents.ImageCount} are live; segment {_segment} does not match memory.");
            }
        }, cancellationToken);

        _contents.MarkSealed();
        _segment = next;
        _generation = next;
        _logBytes = 0;
        _logRecords = 0;
        _segmentCount = 1;
        logger.LogInformation("Shard {Shard} sealed segment {Generation}: {Images} images, {Bytes} bytes.", Key, next, images, bytes);
        await DeleteOlderThanAsync(next, await _store.ListSegmentsAsync(cancellationToken), cancellationToken);
    }

    private async Task DeleteOlderThanAsync(long generation, IReadOnlyList<long> segments, CancellationToken cancellationToken)
    {
        foreach (long old in segments.Where(s => s < generation)) await _store.DeleteSegmentAsync(old, cancellationToken);
        foreach (long old in (await _store.ListLogsAsync(cancellationToken)).Where(l => l < generation)) await _store.DeleteLogAsync(old, cancellationToken);
    }
}
