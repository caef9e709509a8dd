using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ObjectRetrieval.Abstractions.Ingest;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>
/// Instruments of ingest (meter "ObjectRetrieval.Ingest"), as deploy/METRICS.md lists them. The job gauges are
/// observed on the exporter's thread, where calling a grain is not allowed: each active job grain publishes its
/// counts here whenever it saves its state (<see cref="PublishJob"/>) and withdraws them when it deactivates.
/// </summary>
public static class IngestMetrics
{
    public const string MeterName = "ObjectRetrieval.Ingest";

    /// <summary>Values of the <c>outcome</c> label of <c>objret.ingest.images</c>.</summary>
    public static class Outcomes
    {
        public const string Indexed = "indexed";
        public const string Unchanged = "unchanged";
        public const string Failed = "failed";
    }

    private static readonly Meter Meter = new(MeterName);

    private static readonly ConcurrentDictionary<string, JobProgress> ActiveJobs = new(StringComparer.Ordinal);

    private static readonly Counter<long> Images = Meter.CreateCounter<long>(
        "objret.ingest.images", "{image}", "Images ingest workers finished, by index, outcome (indexed, unchanged, failed) and failure reason.");

    static IngestMetrics()
    {
        Meter.CreateObservableGauge("objret.ingest.batches.in_flight", ObserveBatchesInFlight, "{batch}",
            "Batches leased to workers and not yet reported, over the ingest jobs active on this silo, by index.");
        Meter.CreateObservableGauge("objret.ingest.job.images", ObserveJobImages, "{image}",
            "Counts of each ingest job active on this silo, by state: listed, then skipped, indexed, unchanged or failed.");
    }

    /// <summary>What one worker made of one batch. Failure reasons are the decoder's (Truncated, UnknownFormat, ...) or TooLarge, Unreadable.</summary>
    public static void RecordBatch(string index, IngestBatchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Indexed > 0) Images.Add(result.Indexed, new("index", index), new("outcome", Outcomes.Indexed));
        if (result.Unchanged > 0) Images.Add(result.Unchanged, new("index", index), new("outcome", Outcomes.Unchanged));
        foreach (IGrouping<string, IngestFailure> reason in result.Failures.GroupBy(f => f.Reason, StringComparer.Ordinal))
        {
            Images.Add(reason.Count(), new("index", index), new("outcome", Outcomes.Failed), new("reason", reason.Key));
        }
    }

    /// <summary>A job's counts as they now stand; replaces what it published before.</summary>
    public static void PublishJob(string jobId, JobProgress progress) => ActiveJobs[jobId] = progress;

    /// <summary>The job deactivated here: its series end.</summary>
    public static void WithdrawJob(string jobId) => ActiveJobs.TryRemove(jobId, out _);

    private static IEnumerable<Measurement<long>> ObserveBatchesInFlight() =>
        ActiveJobs.Values
            .GroupBy(job => job.Index, StringComparer.Ordinal)
            .Select(index => new Measurement<long>(index.Sum(job => (long)job.BatchesInFlight), new KeyValuePair<string, object?>("index", index.Key)))
            .ToArray();

    private static IEnumerable<Measurement<long>> ObserveJobImages()
    {
        foreach ((string jobId, JobProgress job) in ActiveJobs)
        {
            yield return Count(jobId, job, "listed", job.Listed);
            yield return Count(jobId, job, "skipped", job.Skipped);
            yield return Count(jobId, job, "indexed", job.Indexed);
            yield return Count(jobId, job, "unchanged", job.Unchanged);
            yield return Count(jobId, job, "failed", job.Failed);
        }
    }

    private static Measurement<long> Count(string jobId, JobProgress job, string state, long value) =>
        new(value, new("ingest_job", jobId), new("index", job.Index), new("state", state));

    /// <summary>One job's counts. Every listed name ends up skipped (not an accepted extension), indexed, unchanged or failed.</summary>
    public sealed record JobProgress(string Index, long Listed, long Skipped, long Indexed, long Unchanged, long Failed, int BatchesInFlight);
}
