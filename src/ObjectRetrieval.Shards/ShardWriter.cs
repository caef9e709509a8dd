using Microsoft.Extensions.Logging;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards.Records;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards;

/// <summary>One image to store: its id and its representation in the core's checksummed record format.</summary>
public readonly record struct ShardUpsert(string ImageId, byte[] Record);

/// <summary>
/// The write path of a shard: every change goes to the log first (acknowledged once durable) and to memory second;
/// seals write what changed since the previous seal as a new segment; compaction merges segments in the background.
/// Writes are serialised here; searches never come here.
/// A writer that finds another owner in its way (a failed condition) is fenced: every later call throws
/// <see cref="ShardFencedException"/>, and the host should let the shard go.
/// </summary>
public sealed partial class ShardWriter
{
    private readonly IShardStore _store;
    private readonly ShardLayout _layout;
    private readonly ShardEngineOptions _options;
    private readonly IShardEvents _events;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ShardContents _contents;

    // Upserts, deletes and seals, one at a time; manifest commits (seals and compaction), one at a time.
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly SemaphoreSlim _commits = new(1, 1);

    private ShardManifest _manifest;
    private string _manifestVersion;
    private ShardLogState _log;
    private long _nextSegment;

    // Since the last seal, across every log it has not covered yet.
    private long _logRecords;
    private long _logBytes;

    // A failed append may have left part of a batch in the current log: the next append starts a fresh log first.
    private bool _logNeedsRotation;
    private ShardFencedException? _fenced;
    private readonly long _quarantined;

    internal ShardWriter(
        IShardStore store, ShardLayout layout, ShardEngineOptions options, IShardEvents events, ILogger logger, TimeProvider time,
        ShardContents contents, ShardManifest manifest, string manifestVersion, ShardLogState log, long logRecords, long logBytes, long quarantined)
    {
        _store = store;
        _layout = layout;
        _options = options;
        _events = events;
        _logger = logger;
        _time = time;
        _contents = contents;
        _manifest = manifest;
        _manifestVersion = manifestVersion;
        _log = log;
        _nextSegment = manifest.NextSegment;
        _logRecords = logRecords;
        _logBytes = logBytes;
        _quarantined = quarantined;
    }

    public long Epoch => _manifest.Epoch;

    /// <summary>The manifest as this writer last wrote or read it.</summary>
    public ShardManifest Manifest => _manifest;

    public bool IsFenced => _fenced is not null;

    /// <summary>Whether the logs hold enough since the last seal to seal now.</summary>
    public bool ShouldSeal => _contents.HasChanges && (_logBytes >= _options.SealLogBytes || _logRecords >= _options.SealLogRecords);

    internal ShardEngineStats Stats(ShardReader reader) =>
        new(reader.ImageCount, reader.VectorCount, reader.MemoryBytes, _manifest.Segments.Count, _logRecords, _logBytes, _manifest.Epoch, _quarantined);

    /// <summary>
    /// Adds or replaces images (idempotent by id). The whole batch is checked first — record format, id, dimension,
    /// counts, NaN and infinities — and either all of it is logged or none; returns once it is durable.
    /// </summary>
    public async Task<int> UpsertAsync(IReadOnlyList<ShardUpsert> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfFenced();
        if (batch.Count == 0) return 0;
        var images = new ImageRepresentation[batch.Count];
        using var frames = new MemoryStream();
        var boundaries = new List<long>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            images[i] = Validate(batch[i], i);
            ShardRecordFormat.Write(frames, ShardRecordKind.Upsert, batch[i].ImageId, batch[i].Record);
            boundaries.Add(frames.Length);
            if (boundaries[^1] - (i == 0 ? 0 : boundaries[^2]) > _store.MaxAppendBytes)
            {
                throw new ShardValidationException($"Image '{batch[i].ImageId}' takes {boundaries[^1] - (i == 0 ? 0 : boundaries[^2])} bytes; one log append holds at most {_store.MaxAppendBytes}.");
            }
        }

        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await AppendAsync(frames, boundaries, cancellationToken).ConfigureAwait(false);
            _contents.Upsert(images);
            return images.Length;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Deletes images; returns how many were present. Logged as tombstones before memory forgets them.</summary>
    public async Task<int> DeleteAsync(IReadOnlyList<string> imageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ThrowIfFenced();
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string[] present = imageIds.Where(_contents.Contains).Distinct(StringComparer.Ordinal).ToArray();
            if (present.Length == 0) return 0;
            using var frames = new MemoryStream();
            var boundaries = new List<long>(present.Length);
            foreach (string id in present)
            {
                ShardRecordFormat.Write(frames, ShardRecordKind.Delete, id, []);
                boundaries.Add(frames.Length);
            }

            await AppendAsync(frames, boundaries, cancellationToken).ConfigureAwait(false);
            _contents.Delete(present);
            return present.Length;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Drops deleted and replaced vectors from memory and trains IVF lists once the shard is large enough.</summary>
    public async Task<bool> MaintainMemoryAsync(CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _contents.Maintain();
        }
        finally
        {
            _writes.Release();
        }
    }

    private ImageRepresentation Validate(ShardUpsert upsert, int position)
    {
        if (string.IsNullOrEmpty(upsert.ImageId)) throw new ShardValidationException($"Image {position} of the batch has an empty id.");
        ImageRepresentation image;
        try
        {
            image = RepresentationSerializer.Deserialize(upsert.Record);
        }
        catch (CorruptRepresentationException e)
        {
            throw new ShardValidationException($"Record for '{upsert.ImageId}' does not parse: {e.Message}");
        }

        if (image.ImageId != upsert.ImageId) throw new ShardValidationException($"Record for '{upsert.ImageId}' holds image '{image.ImageId}'.");
        if (ImageValidation.Problem(image, _layout) is { } problem) throw new ShardValidationException(problem);
        return image;
    }

    /// <summary>
    /// Appends whole records, in pieces no larger than the store takes, each conditional on the log's length and
    /// version. A failed condition means another writer owns the shard: fenced. Any other failure may have left part
    /// of the batch behind, so the next append starts a new log and the partial bytes stay a true tail.
    /// </summary>
    private async Task AppendAsync(MemoryStream frames, List<long> boundaries, CancellationToken cancellationToken)
    {
        if (_logNeedsRotation) await RotateLogAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> all = frames.GetBuffer().AsMemory(0, (int)frames.Length);
        long start = 0;
        int next = 0;
        while (start < all.Length)
        {
            long end = start;
            while (next < boundaries.Count && boundaries[next] - start <= _store.MaxAppendBytes) end = boundaries[next++];
            ReadOnlyMemory<byte> piece = all[(int)start..(int)end];
            try
            {
                string version = await _store.AppendAsync(_log.Name, piece, _log.Length, _log.Version, cancellationToken).ConfigureAwait(false);
                _log = _log with { Length = _log.Length + piece.Length, Version = version };
            }
            catch (StorePreconditionException e)
            {
                throw Fence($"Appending to {_store.Describe(_log.Name)} at byte {_log.Length} failed its condition: another writer owns the shard.", e);
            }
            catch
            {
                _logNeedsRotation = true;
                throw;
            }

            start = end;
        }

        _logRecords += boundaries.Count;
        _logBytes += all.Length;
        _events.LogAppended(all.Length);
    }

    private async Task RotateLogAsync(CancellationToken cancellationToken)
    {
        long sequence = _log.Sequence + 1;
        try
        {
            string version = await _store.CreateLogAsync(ShardFileNames.Log(sequence), cancellationToken).ConfigureAwait(false);
            _log = new ShardLogState(sequence, 0, version);
            _logNeedsRotation = false;
        }
        catch (StorePreconditionException e)
        {
            throw Fence($"Log {_store.Describe(ShardFileNames.Log(sequence))} already exists: another writer owns the shard.", e);
        }
    }

    private void ThrowIfFenced()
    {
        if (_fenced is not null) throw new ShardFencedException(_fenced.Message, _fenced);
    }

    private ShardFencedException Fence(string message, Exception inner)
    {
        _fenced ??= new ShardFencedException(message, inner);
        _events.Fenced();
        _logger.LogWarning(inner, "Shard writer at epoch {Epoch} is fenced: {Message}", _manifest.Epoch, message);
        return _fenced;
    }
}
