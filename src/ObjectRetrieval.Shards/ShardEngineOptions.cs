namespace ObjectRetrieval.Shards;

/// <summary>When a shard seals its log and compacts its segments.</summary>
public sealed class ShardEngineOptions
{
    /// <summary>Seal once the current logs hold this many bytes.</summary>
    public long SealLogBytes { get; set; } = 64L << 20;

    /// <summary>Seal once the current logs hold this many records.</summary>
    public int SealLogRecords { get; set; } = 50_000;

    /// <summary>Size-tiered compaction merges this many adjacent segments of one size tier into one.</summary>
    public int CompactionFanIn { get; set; } = 4;

    /// <summary>Segments below this size share the lowest tier.</summary>
    public long CompactionMinSegmentBytes { get; set; } = 4L << 20;

    /// <summary>What is wrong with the options, or null.</summary>
    public string? Problem()
    {
        if (SealLogBytes < 1) return $"{nameof(SealLogBytes)} must be at least 1 (is {SealLogBytes}).";
        if (SealLogRecords < 1) return $"{nameof(SealLogRecords)} must be at least 1 (is {SealLogRecords}).";
        if (CompactionFanIn < 2) return $"{nameof(CompactionFanIn)} must be at least 2 (is {CompactionFanIn}).";
        if (CompactionMinSegmentBytes < 1) return $"{nameof(CompactionMinSegmentBytes)} must be at least 1 (is {CompactionMinSegmentBytes}).";
        return null;
    }
}
