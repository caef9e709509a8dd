using System.Globalization;

namespace ObjectRetrieval.Shards.Storage;

/// <summary>The names of a shard's files, the same in a folder and in a blob container, so one can be copied into the other.</summary>
public static class ShardFileNames
{
    /// <summary>The live segments, the logs they cover and the owner's epoch; replaced conditionally.</summary>
    public const string Manifest = "manifest.json";

    /// <summary>Held open exclusively by the owner on local disk.</summary>
    public const string OwnerLock = "owner.lock";

    public static string Log(long sequence) => $"wal-{sequence:D12}.log";

    /// <summary>Segment names carry the writer's epoch, so two writers can never create the same segment.</summary>
    public static string Segment(long epoch, long sequence) => $"segment-{epoch:D8}-{sequence:D12}.seg";

    public static string Quarantine(long epoch) => $"quarantine-{epoch:D8}.jsonl";

    public static bool IsSegment(string name) => name.StartsWith("segment-", StringComparison.Ordinal) && name.EndsWith(".seg", StringComparison.Ordinal);

    /// <summary>A file a writer was still writing when it died (local disk writes a temporary file, then renames it).</summary>
    public static bool IsTemporary(string name) => name.EndsWith(".tmp", StringComparison.Ordinal);

    public static bool TryParseLog(string name, out long sequence)
    {
        sequence = 0;
        return name.StartsWith("wal-", StringComparison.Ordinal) && name.EndsWith(".log", StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(4, name.Length - 8), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }
}
