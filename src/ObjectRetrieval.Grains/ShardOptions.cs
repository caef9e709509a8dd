using ObjectRetrieval.Shards;

namespace ObjectRetrieval.Grains;

/// <summary>When shards seal their write-ahead log into a segment, compact segments and tidy their memory.</summary>
public sealed class ShardOptions
{
    public const string SectionName = "Shards";

    /// <summary>How often a shard checks whether to seal, compact or train (grain timer period).</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Seal once the log holds this many bytes.</summary>
    public long SealLogBytes { get; set; } = 64L << 20;

    /// <summary>Seal once the log holds this many records.</summary>
    public int SealLogRecords { get; set; } = 50_000;

    /// <summary>Size-tiered compaction merges this many adjacent segments of one size tier.</summary>
    public int CompactionFanIn { get; set; } = 4;

    public ShardEngineOptions ToEngineOptions() => new()
    {
        SealLogBytes = SealLogBytes,
        SealLogRecords = SealLogRecords,
        CompactionFanIn = CompactionFanIn,
    };
}
