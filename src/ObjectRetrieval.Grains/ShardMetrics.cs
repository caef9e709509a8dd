using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;

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

    static ShardMetrics()
    {
        Meter.CreateObservableGauge("objret.shard.images", () => Observe(static s => s.Images), "{image}", "Images held by each shard active on this silo.");
        Meter.CreateObservableGauge("objret.shard.vectors", () => Observe(static s => s.Vectors), "{vector}", "Vectors held by each shard active on this silo (cluster, global and dense).");
        Meter.CreateObservableGauge("objret.shard.memory", () => Observe(static s => s.MemoryBytes), "By", "Memory of the in-memory index of each shard active on this silo.");
    }

    /// <summary>A shard's current size; replaces what it published before.</summary>
    public static void Publish(string shardKey, long images, long vectors, long memoryBytes)
    {
        ShardSize size = ActiveShards.TryGetValue(shardKey, out ShardSize? previous)
            ? previous with { Images = images, Vectors = vectors, MemoryBytes = memoryBytes }
            : new ShardSize(TagsOf(shardKey), images, vectors, memoryBytes);
        ActiveShards[shardKey] = size;
    }

    /// <summary>The shard deactivated here: its series end.</summary>
    public static void Withdraw(string shardKey) => ActiveShards.TryRemove(shardKey, out _);

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

    private sealed record ShardSize(KeyValuePair<string, object?>[] Tags, long Images, long Vectors, long MemoryBytes);
}
