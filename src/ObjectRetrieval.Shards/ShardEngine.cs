using Microsoft.Extensions.Logging;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards;

/// <summary>A shard's numbers as its stats report them.</summary>
public sealed record ShardEngineStats(int Images, long Vectors, long MemoryBytes, int Segments, long LogRecords, long LogBytes, long Epoch, long QuarantinedRecords);

/// <summary>
/// One open shard: it owns the shard's files (its epoch is in the manifest), holds the shard in memory, and offers
/// a <see cref="Reader"/> (searches and lookups) and a <see cref="Writer"/> (the log, seals and compaction).
/// Open it with <see cref="OpenAsync"/>, which recovers the shard from its segments and logs.
/// </summary>
public sealed class ShardEngine : IAsyncDisposable
{
    private readonly IAsyncDisposable _hold;

    private ShardEngine(ShardReader reader, ShardWriter writer, IAsyncDisposable hold)
    {
        Reader = reader;
        Writer = writer;
        _hold = hold;
    }

    public ShardReader Reader { get; }

    public ShardWriter Writer { get; }

    public ShardEngineStats Stats => Writer.Stats(Reader);

    /// <summary>
    /// Takes ownership of the shard (a new epoch in the manifest, conditionally written; the store's exclusive hold
    /// where it has one), loads the manifest's segments, replays the logs they do not cover and starts a fresh log.
    /// Records that fail on replay go to a quarantine file; damage that a crash cannot explain refuses the shard
    /// with <see cref="ShardCorruptException"/>; a writer that lost the race gets <see cref="ShardFencedException"/>.
    /// </summary>
    public static async Task<ShardEngine> OpenAsync(
        IShardStore store,
        ShardLayout layout,
        ShardEngineOptions options,
        IShardEvents events,
        ILogger logger,
        TimeProvider time,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problem() is { } problem) throw new ArgumentException(problem, nameof(options));
        long started = time.GetTimestamp();
        IAsyncDisposable hold;
        try
        {
            hold = await store.AcquireAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StorePreconditionException e)
        {
            events.Fenced();
            throw new ShardFencedException(e.Message, e);
        }

        try
        {
            var recovery = new ShardRecovery(store, layout, events, logger);
            ShardWriter writer = await recovery.RunAsync(options, time, cancellationToken).ConfigureAwait(false);
            var reader = new ShardReader(recovery.Contents, layout);
            TimeSpan elapsed = time.GetElapsedTime(started);
            events.Recovered(elapsed, reader.ImageCount, recovery.ReplayedRecords);
            logger.LogInformation(
                "Shard {Shard} recovered in {Seconds:F2} s at epoch {Epoch}: {Segments} segments, {Records} log records replayed, {Quarantined} quarantined, {Live} live images.",
                layout.IndexName + "@" + store.Describe(string.Empty), elapsed.TotalSeconds, writer.Epoch, recovery.SegmentCount, recovery.ReplayedRecords, recovery.QuarantinedRecords, reader.ImageCount);
            return new ShardEngine(reader, writer, hold);
        }
        catch (Exception e)
        {
            if (e is ShardCorruptException) events.CorruptionFound();
            if (e is ShardFencedException) events.Fenced();
            await hold.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.StopAsync().ConfigureAwait(false);
        await _hold.DisposeAsync().ConfigureAwait(false);
    }
}
