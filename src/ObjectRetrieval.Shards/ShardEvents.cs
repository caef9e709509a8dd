namespace ObjectRetrieval.Shards;

/// <summary>What the engine reports for metrics; the host (the shard grain) turns these into instruments.</summary>
public interface IShardEvents
{
    void LogAppended(long bytes);

    void Sealed(TimeSpan duration, long bytes, long records);

    void Compacted(TimeSpan duration, long bytesRead, long bytesWritten, int segmentsMerged);

    void Recovered(TimeSpan duration, long images, long logRecords);

    void Quarantined(long records);

    void Fenced();

    void CorruptionFound();
}

/// <summary>Reports nothing.</summary>
public sealed class NoShardEvents : IShardEvents
{
    public static NoShardEvents Instance { get; } = new();

    public void LogAppended(long bytes)
    {
    }

    public void Sealed(TimeSpan duration, long bytes, long records)
    {
    }

    public void Compacted(TimeSpan duration, long bytesRead, long bytesWritten, int segmentsMerged)
    {
    }

    public void Recovered(TimeSpan duration, long images, long logRecords)
    {
    }

    public void Quarantined(long records)
    {
    }

    public void Fenced()
    {
    }

    public void CorruptionFound()
    {
    }
}
