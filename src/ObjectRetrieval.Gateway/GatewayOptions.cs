namespace ObjectRetrieval.Gateway;

public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>How long a search waits for shards; a shard that misses it makes the answer partial.</summary>
    public TimeSpan ShardDeadline { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Query embeddings kept (LRU), so repeated queries skip the text tower.</summary>
    public int QueryCacheEntries { get; set; } = 4096;

    /// <summary>Directories whose files may be referenced by path when adding images; none by default.</summary>
    public List<string> FileRoots { get; set; } = [];

    /// <summary>Largest image accepted by upload or reference.</summary>
    public long MaxImageBytes { get; set; } = 32L << 20;
}
