using System.Diagnostics;

namespace ObjectRetrieval.Encoding;

/// <summary>Counters and time split of an encoder, updated lock-free by its pipeline stages.</summary>
public sealed class EncoderStatistics
{
    private long _images;
    private long _failed;
    private long _batches;
    private long _views;
    private long _decodeTicks;
    private long _inferenceTicks;
    private long _aggregationTicks;

    internal void AddDecode(long ticks) => Interlocked.Add(ref _decodeTicks, ticks);

    internal void AddFailure() => Interlocked.Increment(ref _failed);

    internal void AddBatch(int views, long ticks)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _views, views);
        Interlocked.Add(ref _inferenceTicks, ticks);
    }

    internal void AddEncoded(long aggregationTicks)
    {
        Interlocked.Increment(ref _images);
        Interlocked.Add(ref _aggregationTicks, aggregationTicks);
    }

    public EncoderStatsSnapshot Snapshot() => new(
        Interlocked.Read(ref _images),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _batches),
        Interlocked.Read(ref _views),
        Seconds(Interlocked.Read(ref _decodeTicks)),
        Seconds(Interlocked.Read(ref _inferenceTicks)),
        Seconds(Interlocked.Read(ref _aggregationTicks)));

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
}

/// <summary>
/// Totals since the encoder started. Stage seconds are summed over workers, so with overlap they can
/// exceed wall time; divide counts by the caller's own wall clock for throughput.
/// </summary>
public sealed record EncoderStatsSnapshot(
    long ImagesEncoded,
    long ImagesFailed,
    long Batches,
    long ViewsInferred,
    double DecodeSeconds,
    double InferenceSeconds,
    double AggregationSeconds)
{
    public double MeanBatchViews => Batches == 0 ? 0 : (double)ViewsInferred / Batches;

    /// <summary>The difference between two snapshots: what happened in between.</summary>
    public EncoderStatsSnapshot Since(EncoderStatsSnapshot earlier) => new(
        ImagesEncoded - earlier.ImagesEncoded,
        ImagesFailed - earlier.ImagesFailed,
        Batches - earlier.Batches,
        ViewsInferred - earlier.ViewsInferred,
        DecodeSeconds - earlier.DecodeSeconds,
        InferenceSeconds - earlier.InferenceSeconds,
        AggregationSeconds - earlier.AggregationSeconds);
}
