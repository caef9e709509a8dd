using Microsoft.Extensions.Logging;
using ObjectRetrieval.Shards.Records;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards;

/// <summary>What one compaction did.</summary>
public sealed record CompactionResult(string Segment, int SegmentsMerged, long BytesRead, long BytesWritten, long Records, TimeSpan Duration);

public sealed partial class ShardWriter
{
    private Task<CompactionResult?>? _compaction;

    /// <summary>The compaction under way, if any.</summary>
    public Task<CompactionResult?>? Compaction => _compaction;

    /// <summary>
    /// Starts merging the first run of adjacent segments of one size tier (at least <see cref="ShardEngineOptions.CompactionFanIn"/>
    /// of them) in the background, unless one is already running or no run qualifies; returns the compaction under way.
    /// It reads immutable segments and writes a new one, touching neither memory nor the log, so upserts, seals and
    /// searches go on; only its manifest commit takes turns with seals.
    /// </summary>
    public Task<CompactionResult?>? StartCompaction()
    {
        if (IsFenced) return null;
        if (_compaction is { IsCompleted: false }) return _compaction;
        (int first, int count)? run = PickRun(_manifest.Segments);
        if (run is not { } chosen) return null;
        SegmentEntry[] segments = _manifest.Segments.Skip(chosen.first).Take(chosen.count).ToArray();
        string name = ShardFileNames.Segment(_manifest.Epoch, Interlocked.Increment(ref _nextSegment) - 1);
        _compaction = Task.Run(() => CompactAsync(segments, dropTombstones: chosen.first == 0, name));
        return _compaction;
    }

    /// <summary>Waits for a compaction under way, so the writer can be let go.</summary>
    public async Task StopAsync()
    {
        if (_compaction is { } compaction)
        {
            try
            {
                await compaction.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Already logged by the compaction; the manifest still lists the segments it would have merged.
            }
        }
    }

    /// <summary>Size tiers grow by the fan-in: a run of equal tiers merges into one segment of the next tier.</summary>
    private (int First, int Count)? PickRun(IReadOnlyList<SegmentEntry> segments)
    {
        int Tier(SegmentEntry s) => s.Bytes < _options.CompactionMinSegmentBytes ? 0
            : 1 + (int)Math.Floor(Math.Log((double)s.Bytes / _options.CompactionMinSegmentBytes, _options.CompactionFanIn));

        int start = 0;
        for (int i = 1; i <= segments.Count; i++)
        {
            if (i < segments.Count && Tier(segments[i]) == Tier(segments[start])) continue;
            if (i - start >= _options.CompactionFanIn) return (start, i - start);
            start = i;
        }

        return null;
    }

    private async Task<CompactionResult?> CompactAsync(SegmentEntry[] run, bool dropTombstones, string name)
    {
        long started = _time.GetTimestamp();
        try
        {
            // Newest first: the first record of an id is its live one; a tombstone shadows older segments only, so it
            // can go when the run starts at the oldest segment.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            long records = 0;
            long tombstones = 0;
            long read = run.Sum(s => s.Bytes);
            long written = await CreateSegmentAsync(name, async (output, cancel) =>
            {
                for (int i = run.Length - 1; i >= 0; i--)
                {
                    string file = _store.Describe(run[i].Name);
                    Stream input = await _store.OpenReadAsync(run[i].Name, cancel).ConfigureAwait(false);
                    await using (input.ConfigureAwait(false))
                    {
                        await foreach (ShardRecord record in SegmentReader.ReadAsync(input, file, cancel).ConfigureAwait(false))
                        {
                            if (!seen.Add(record.Key)) continue;
                            if (record.Kind == ShardRecordKind.Delete)
                            {
                                if (dropTombstones) continue;
                                tombstones++;
                            }
                            else
                            {
                                records++;
                            }

                            await ShardRecordFormat.WriteAsync(output, record.Kind, record.Key, record.Value.Span, cancel).ConfigureAwait(false);
                        }
                    }
                }

                await ShardRecordFormat.WriteSegmentEndAsync(output, records + tombstones, cancel).ConfigureAwait(false);
            }, CancellationToken.None).ConfigureAwait(false);

            var merged = new SegmentEntry(name, records, tombstones, written, run[^1].CoversLogsBefore);
            var names = run.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            await CommitAsync(
                m =>
                {
                    var segments = new List<SegmentEntry>(m.Segments.Count);
                    foreach (SegmentEntry segment in m.Segments)
                    {
                        if (!names.Contains(segment.Name)) segments.Add(segment);
                        else if (segment.Name == run[0].Name) segments.Add(merged);
                    }

                    return m with { Segments = segments, NextSegment = Math.Max(m.NextSegment, Interlocked.Read(ref _nextSegment)) };
                },
                m => m.Segments.Any(s => s.Name == name),
                CancellationToken.None).ConfigureAwait(false);

            foreach (SegmentEntry old in run)
            {
                try
                {
                    await _store.DeleteAsync(old.Name).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // Garbage only: the manifest no longer lists it; the next recovery deletes it.
                    _logger.LogWarning(e, "Deleting compacted segment {Segment} failed.", _store.Describe(old.Name));
                }
            }

            TimeSpan elapsed = _time.GetElapsedTime(started);
            _events.Compacted(elapsed, read, written, run.Length);
            _logger.LogInformation("Shard compacted {Count} segments ({Read} bytes) into {Segment} ({Written} bytes, {Records} images, {Tombstones} tombstones) in {Seconds:F2} s.",
                run.Length, read, _store.Describe(name), written, records, tombstones, elapsed.TotalSeconds);
            return new CompactionResult(name, run.Length, read, written, records + tombstones, elapsed);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Compaction into {Segment} failed; the segments it would have merged stay live.", _store.Describe(name));
            throw;
        }
    }
}
