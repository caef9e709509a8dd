namespace ObjectRetrieval.Shards;

/// <summary>Stored data of a shard is damaged where a crash cannot have damaged it: the shard refuses to start, and the file is kept.</summary>
public sealed class ShardCorruptException(string file, long offset, string reason)
    : Exception($"Shard file {file} is corrupt at byte {offset}: {reason} The shard refuses to start; the file is kept for inspection.")
{
    public string File { get; } = file;

    public long Offset { get; } = offset;
}

/// <summary>Another writer owns the shard now: this one must stop writing and go away.</summary>
public sealed class ShardFencedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A batch that cannot go into the shard; nothing of it was logged.</summary>
public sealed class ShardValidationException(string message) : ArgumentException(message);
