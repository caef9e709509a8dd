using System.Diagnostics.Metrics;

namespace ObjectRetrieval.Gateway;

/// <summary>
/// Instruments of the gateway's search path (meter "ObjectRetrieval.Search"). Names, units, labels and bucket
/// boundaries are the ones deploy/METRICS.md lists and the Search dashboard reads.
/// </summary>
public static class SearchMetrics
{
    public const string MeterName = "ObjectRetrieval.Search";

    /// <summary>Values of the <c>outcome</c> label of <c>objret.search.duration</c>.</summary>
    public static class Outcomes
    {
        public const string Ok = "ok";
        public const string Partial = "partial";
        public const string Error = "error";
    }

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "objret.search.duration",
        "s",
        "Search requests end to end (embed the query, fan out to the shards, merge), by index, mode and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10] });

    private static readonly Counter<long> ShardTimeouts = Meter.CreateCounter<long>(
        "objret.search.shard_timeouts", "{shard}", "Shard calls that missed the search deadline; each makes its answer partial.");

    private static readonly Counter<long> QueryCacheRequests = Meter.CreateCounter<long>(
        "objret.search.query_cache.requests", "{request}", "Query-embedding cache look-ups, by result (hit or miss).");

    private static readonly KeyValuePair<string, object?>[] CacheHit = [new("result", "hit")];
    private static readonly KeyValuePair<string, object?>[] CacheMiss = [new("result", "miss")];

    /// <summary>One search request that reached its index; <paramref name="mode"/> as the API names it (global, cluster, dense).</summary>
    public static void RecordSearch(string index, string mode, string outcome, TimeSpan elapsed) =>
        Duration.Record(elapsed.TotalSeconds, new("index", index), new("mode", mode), new("outcome", outcome));

    internal static void RecordShardTimeouts(string index, int shards)
    {
        if (shards > 0) ShardTimeouts.Add(shards, new KeyValuePair<string, object?>("index", index));
    }

    internal static void RecordQueryCacheLookup(bool hit) => QueryCacheRequests.Add(1, hit ? CacheHit : CacheMiss);
}
