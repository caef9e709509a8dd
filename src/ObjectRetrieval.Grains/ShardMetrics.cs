using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards;

namespace ObjectRetrieval.Grains;

/// <summary>
/// Instruments of the shard grains (meter "ObjectRetrieval.Index"), as deploy/METRICS.md lists them. The size
/// gauges are observed on the exporter's thread, where calling a grain is not allowed: each active shard
/// publishes its numbers here after every change (<see cref="Publish"/>) and withdraws them when it deactivates,
/// so the gauges report exactly the shards active on this silo.
/// </summary>
public static class ShardMetrics
{
    public const string MeterName = "ObjectRetrieval.Index";

    private static readonly Meter Meter = new(MeterName);

    private static readonly ConcurrentDictionary<string, ShardSize> ActiveShards = new(StringComparer.Ordinal);

    private static readonly Histogram<double> SearchDuration = Meter.CreateHistogram<double>(
        "objret.shard.search.duration",
        "s",
        "Time one shard grain spends answering one search (scan, top-k, explanations), by index, shard and mode.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    // Seconds buckets for storage work: a small seal takes milliseconds, a large compaction or recovery minutes.
    private static readonly double[] StorageSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

    private static readonly Histogram<double> SealDuration = Meter.CreateHistogram<double>(
        "objret.shard.seal.duration", "s", "Time one seal takes: writing the changes since the previous seal as a segment and committing the manifest.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StorageSeconds });

    private static readonly Counter<long> SealBytes = Meter.CreateCounter<long>("objret.shard.seal.bytes", "By", "Bytes of segments written by seals.");

    private static readonly Histogram<double> CompactionDuration = Meter.CreateHistogram<double>(
        "objret.shard.compaction.duration", "s", "Time one background compaction takes to merge segments.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StorageSeconds });

    private static readonly Counter<long> CompactionBytes = Meter.CreateCounter<long>(
        "objret.shard.compaction.bytes", "By", "Bytes compactions read and wrote (direction: read, written).");

    private static readonly Counter<long> LogAppended = Meter.CreateCounter<long>("objret.shard.log.appended", "By", "Bytes appended to shard write-ahead logs.");

    private static readonly Histogram<double> RecoveryDuration = Meter.CreateHistogram<double>(
        "objret.shard.recovery.duration", "s", "Time a shard takes to activate: ownership, segments, log replay.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StorageSeconds });

    private static readonly Counter<long> Quarantined = Meter.CreateCounter<long>(
        "objret.shard.quarantined", "{record}", "Log or segment records that failed on replay and went to the shard's quarantine file.");

    private static readonly Counter<long> FencingRejections = Meter.CreateCounter<long>(
        "objret.shard.fencing.rejections", "{rejection}", "Writes refused because another writer owns the shard (a stale activation or a second cluster).");

    private static readonly Counter<long> CorruptionFound = Meter.CreateCounter<long>(
        "objret.shard.corruption", "{event}", "Shards that found damaged stored data and refused to start.");

    private static readonly ConcurrentDictionary<string, string> RefusedShards = new(StringComparer.Ordinal);

    static ShardMetrics()
    {
        Meter.CreateObservableGauge("objret.shard.images", () => Observe(static s => s.Images), "{image}", "Images held by each shard active on this silo.");
        Meter.CreateObservableGauge("objret.shard.vectors", () => Observe(static s => s.Vectors), "{vector}", "Vectors held by each shard active on this silo (cluster, global and dense).");
        Meter.CreateObservableGauge("objret.shard.memory", () => Observe(static s => s.MemoryBytes), "By", "Memory of the in-memory index of each shard active on this silo.");
        Meter.CreateObservableGauge("objret.shard.log.bytes", () => Observe(static s => s.LogBytes), "By", "Bytes of write-ahead log not yet sealed, per shard active on this silo.");
        Meter.CreateObservableGauge("objret.shard.segments", () => Observe(static s => s.Segments), "{segment}", "Live segments per shard active on this silo.");
        Meter.CreateObservableGauge("objret.shard.refused", ObserveRefused, "{shard}", "Shards on this silo that refused to start because their stored data is damaged.");
    }

    /// <summary>A shard's current size; replaces what it published before.</summary>
    public static void Publish(string shardKey, long images, long vectors, long memoryBytes, long logBytes, long segments)
    {
        ShardSize size = ActiveShards.TryGetValue(shardKey, out ShardSize? previous)
            ? previous with { Images = images, Vectors = vectors, MemoryBytes = memoryBytes, LogBytes = logBytes, Segments = segments }
            : new ShardSize(TagsOf(shardKey), images, vectors, memoryBytes, logBytes, segments);
        ActiveShards[shardKey] = size;
    }

    /// <summary>The shard deactivated here: its series end.</summary>
    public static void Withdraw(string shardKey)
    {
        ActiveShards.TryRemove(shardKey, out _);
        RefusedShards.TryRemove(shardKey, out _);
    }

    /// <summary>Records (or clears, with null) why a shard on this silo refused to start; readiness reports these.</summary>
    public static void MarkRefused(string shardKey, string? problem)
    {
        if (problem is null) RefusedShards.TryRemove(shardKey, out _);
        else RefusedShards[shardKey] = problem;
    }

    /// <summary>Shards on this silo that refused to start, with why.</summary>
    public static IReadOnlyDictionary<string, string> Refused => RefusedShards;

    /// <summary>The engine's events of one shard, as instruments tagged with its index and shard.</summary>
    public static IShardEvents EventsOf(string shardKey) => new ShardEventRecorder(TagsOf(shardKey));

    private static IEnumerable<Measurement<long>> ObserveRefused()
    {
        foreach (string key in RefusedShards.Keys) yield return new Measurement<long>(1, TagsOf(key));
    }

    private sealed class ShardEventRecorder(KeyValuePair<string, object?>[] tags) : IShardEvents
    {
        public void LogAppended(long bytes) => ShardMetrics.LogAppended.Add(bytes, tags);

        public void Sealed(TimeSpan duration, long bytes, long records)
        {
            SealDuration.Record(duration.TotalSeconds, tags);
            SealBytes.Add(bytes, tags);
        }

        public void Compacted(TimeSpan duration, long bytesRead, long bytesWritten, int segmentsMerged)
        {
            CompactionDuration.Record(duration.TotalSeconds, tags);
            CompactionBytes.Add(bytesRead, [.. tags, new("direction", "read")]);
            CompactionBytes.Add(bytesWritten, [.. tags, new("direction", "written")]);
        }

        public void Recovered(TimeSpan duration, long images, long logRecords) => RecoveryDuration.Record(duration.TotalSeconds, tags);

        public void Quarantined(long records) => ShardMetrics.Quarantined.Add(records, tags);

        public void Fenced() => FencingRejections.Add(1, tags);

        public void CorruptionFound() => ShardMetrics.CorruptionFound.Add(1, tags);
    }

    /// <summary>One search answered by a shard.</summary>
    public static void RecordSearch(string shardKey, ScoringMode mode, TimeSpan elapsed)
    {
        (string index, int shard) = ShardRouting.ParseShardKey(shardKey);
        SearchDuration.Record(elapsed.TotalSeconds, new("index", index), new("shard", ShardLabel(shard)), new("mode", ModeLabel(mode)));
    }

    private static IEnumerable<Measurement<long>> Observe(Func<ShardSize, long> value)
    {
        foreach (ShardSize size in ActiveShards.Values) yield return new Measurement<long>(value(size), size.Tags);
    }

    private static KeyValuePair<string, object?>[] TagsOf(string shardKey)
    {
        (string index, int shard) = ShardRouting.ParseShardKey(shardKey);
        return [new("index", index), new("shard", ShardLabel(shard))];
    }

    // The mode as the API and the gateway's metrics name it.
    private static string ModeLabel(ScoringMode mode) => mode switch
    {
        ScoringMode.Global => "global",
        ScoringMode.Cluster => "cluster",
        ScoringMode.Dense => "dense",
        _ => mode.ToString().ToLowerInvariant(),
    };

    // The shard number as the dashboards show it ("17", not "idx/shard-017").
    private static string ShardLabel(int shard) => shard.ToString(CultureInfo.InvariantCulture);

    private sealed record ShardSize(KeyValuePair<string, object?>[] Tags, long Images, long Vectors, long MemoryBytes, long LogBytes, long Segments);
}
