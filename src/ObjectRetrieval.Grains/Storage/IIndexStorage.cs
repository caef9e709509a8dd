namespace ObjectRetrieval.Grains.Storage;

/// <summary>
/// Durable state of a shard: immutable sealed segments and write-ahead logs, both numbered by
/// generation. Segment G holds every live image as of its sealing; log G holds what happened after
/// segment G. A shard's state is the newest segment plus its log replayed on top.
/// </summary>
public interface IShardStore
{
    Task<IReadOnlyList<long>> ListSegmentsAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens a segment for reading from its start; segments can be larger than memory, so they are read as a stream.</summary>
    Task<Stream> OpenSegmentAsync(long generation, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a segment from what <paramref name="write"/> puts into the stream it is given, atomically: readers
    /// see all of it or none. If <paramref name="write"/> throws, the segment is not created.
    /// </summary>
    Task WriteSegmentAsync(long generation, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default);

    Task DeleteSegmentAsync(long generation, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<long>> ListLogsAsync(CancellationToken cancellationToken = default);

    Task<byte[]> ReadLogAsync(long generation, CancellationToken cancellationToken = default);

    /// <summary>Appends records to the log; returns only when they are durable (the upsert's acknowledgement waits on this).</summary>
    Task AppendLogAsync(long generation, ReadOnlyMemory<byte> records, CancellationToken cancellationToken = default);

    /// <summary>Drops a log whose contents a newer segment holds.</summary>
    Task DeleteLogAsync(long generation, CancellationToken cancellationToken = default);
}

/// <summary>Where indexes keep their definitions and shards: a local directory or a blob container.</summary>
public interface IIndexStorage
{
    /// <summary>Human-readable location for logs ("directory /data/indexes", "blob container objret").</summary>
    string Description { get; }

    Task<byte[]?> ReadDefinitionAsync(string indexName, CancellationToken cancellationToken = default);

    Task WriteDefinitionAsync(string indexName, ReadOnlyMemory<byte> definition, CancellationToken cancellationToken = default);

    /// <summary>The store of one shard, by the shard's grain key ("index/shard-NNN", also its relative path).</summary>
    IShardStore OpenShard(string shardKey);

    /// <summary>Checks that the storage answers (readiness).</summary>
    Task ProbeAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the index's definition and every shard's segments and logs; an index that does not exist is no error.</summary>
    Task DeleteIndexAsync(string indexName, CancellationToken cancellationToken = default);
}

/// <summary>File and blob names shared by both implementations, so a directory can be copied into a container as is.</summary>
internal static class StorageNames
{
    public const string Definition = "definition.json";

    public static string Segment(long generation) => $"segment-{generation:D12}.seg";

    public static string Log(long generation) => $"wal-{generation:D12}.log";

    public static bool TryParse(string fileName, string prefix, string extension, out long generation)
    {
        generation = 0;
        return fileName.StartsWith(prefix, StringComparison.Ordinal) && fileName.EndsWith(extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(prefix.Length, fileName.Length - prefix.Length - extension.Length),
                System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out generation);
    }

    public static bool TryParseSegment(string fileName, out long generation) => TryParse(fileName, "segment-", ".seg", out generation);

    public static bool TryParseLog(string fileName, out long generation) => TryParse(fileName, "wal-", ".log", out generation);
}
