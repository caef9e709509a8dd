using Microsoft.Extensions.Logging;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards.Records;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards;

/// <summary>What one seal wrote.</summary>
public sealed record SealResult(string Segment, long Records, long Bytes, TimeSpan Duration);

public sealed partial class ShardWriter
{
    /// <summary>
    /// Writes what changed since the last seal — the images upserted since, in full, and tombstones for the ones
    /// deleted since — as a new segment, then lists it in the manifest with the log it covers. In this order:
    /// create the segment (only if absent); move appends to a new log; commit the manifest. Whatever happens to the
    /// commit, appends after the seal land in a log the manifest does not cover, so an ambiguous commit loses nothing;
    /// covered logs are deleted only once the commit is known. Null when nothing changed.
    /// </summary>
    public async Task<SealResult?> SealAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfFenced();
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_contents.HasChanges) return null;
            long started = _time.GetTimestamp();
            ImageRepresentation[] images = _contents.Unsealed.ToArray();
            string[] deletes = _contents.DeletedSinceSeal.ToArray();
            string name = ShardFileNames.Segment(_manifest.Epoch, Interlocked.Increment(ref _nextSegment) - 1);
            long bytes = await CreateSegmentAsync(name, async (stream, cancel) =>
            {
                foreach (ImageRepresentation image in images)
                {
                    await ShardRecordFormat.WriteAsync(stream, ShardRecordKind.Upsert, image.ImageId, RepresentationSerializer.Serialize(image), cancel).ConfigureAwait(false);
                }

                foreach (string id in deletes) await ShardRecordFormat.WriteAsync(stream, ShardRecordKind.Delete, id, [], cancel).ConfigureAwait(false);
                await ShardRecordFormat.WriteSegmentEndAsync(stream, images.Length + deletes.Length, cancel).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);

            long covers = _log.Sequence + 1;
            await RotateLogAsync(cancellationToken).ConfigureAwait(false);
            var entry = new SegmentEntry(name, images.Length, deletes.Length, bytes, covers);
            await CommitAsync(
                m => m with { Segments = [.. m.Segments, entry], FirstLiveLog = covers, NextSegment = Math.Max(m.NextSegment, Interlocked.Read(ref _nextSegment)) },
                m => m.Segments.Any(s => s.Name == name),
                cancellationToken).ConfigureAwait(false);

            _contents.MarkSealed(images, deletes);
            _logRecords = 0;
            _logBytes = 0;
            await DeleteCoveredLogsAsync(covers, cancellationToken).ConfigureAwait(false);
            TimeSpan elapsed = _time.GetElapsedTime(started);
            _events.Sealed(elapsed, bytes, entry.Records + entry.Tombstones);
            _logger.LogInformation("Shard sealed {Segment}: {Images} images, {Tombstones} tombstones, {Bytes} bytes in {Seconds:F3} s.",
                _store.Describe(name), images.Length, deletes.Length, bytes, elapsed.TotalSeconds);
            return new SealResult(name, entry.Records + entry.Tombstones, bytes, elapsed);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Creates a segment that no one else can have created (its name carries this writer's epoch); returns its bytes.</summary>
    private async Task<long> CreateSegmentAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        long bytes = 0;
        try
        {
            await _store.CreateAsync(name, async (stream, cancel) =>
            {
                var counting = new CountingStream(stream);
                await write(counting, cancel).ConfigureAwait(false);
                bytes = counting.Written;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (StorePreconditionException e)
        {
            throw Fence($"Segment {_store.Describe(name)} already exists: another writer holds this epoch.", e);
        }

        return bytes;
    }

    /// <summary>
    /// Replaces the manifest over the version this writer holds. When the condition fails, the manifest is read back:
    /// another epoch means another owner (fenced); this epoch means an earlier commit of ours landed though its answer
    /// was lost, so its content is adopted and the change applied again unless it is already there.
    /// </summary>
    private async Task CommitAsync(Func<ShardManifest, ShardManifest> change, Func<ShardManifest, bool> isApplied, CancellationToken cancellationToken)
    {
        await _commits.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                ShardManifest next = change(_manifest);
                try
                {
                    _manifestVersion = await _store.ReplaceAsync(ShardFileNames.Manifest, next.ToBytes(), _manifestVersion, cancellationToken).ConfigureAwait(false);
                    _manifest = next;
                    return;
                }
                catch (StorePreconditionException e)
                {
                    if (await ReadBackOwnManifestAsync(e, cancellationToken).ConfigureAwait(false) is { } stored && isApplied(stored)) return;
                    if (attempt == 3) throw;
                }
                catch (Exception e) when (e is not ShardFencedException and not OperationCanceledException)
                {
                    // The answer is lost, not necessarily the write: find out which, so that the next commit's condition holds.
                    ShardManifest? stored;
                    try
                    {
                        stored = await ReadBackOwnManifestAsync(e, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception) when (!IsFenced)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
                        throw;
                    }

                    if (stored is not null && isApplied(stored)) return;
                    throw;
                }
            }
        }
        finally
        {
            _commits.Release();
        }
    }

    private async Task<ShardManifest?> ReadBackOwnManifestAsync(Exception cause, CancellationToken cancellationToken)
    {
        StoredFile? file = await _store.ReadAsync(ShardFileNames.Manifest, cancellationToken).ConfigureAwait(false);
        ShardManifest? stored = file is null ? null : ShardManifest.Parse(file.Content, _store.Describe(ShardFileNames.Manifest));
        if (file is null || stored!.Epoch != _manifest.Epoch)
        {
            throw Fence($"The manifest {_store.Describe(ShardFileNames.Manifest)} is at epoch {stored?.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(gone)"}; this writer holds epoch {_manifest.Epoch}.", cause);
        }

        _manifest = stored;
        _manifestVersion = file.Version;
        return stored;
    }

    private async Task DeleteCoveredLogsAsync(long firstLiveLog, CancellationToken cancellationToken)
    {
        try
        {
            foreach (string name in await _store.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                if (ShardFileNames.TryParseLog(name, out long sequence) && sequence < firstLiveLog) await _store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Garbage only: the manifest already says these logs are covered; the next recovery deletes them.
            _logger.LogWarning(e, "Deleting covered logs of {Store} failed.", _store.Describe(string.Empty));
        }
    }

    /// <summary>Counts what passes through to the store's stream.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position
        {
            get => Written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
