using ObjectRetrieval.Gateway.Security;

namespace ObjectRetrieval.Gateway;

public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>How long a search waits for shards; a shard that misses it makes the answer partial.</summary>
    public TimeSpan ShardDeadline { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Query embeddings kept (LRU), so repeated queries skip the text tower.</summary>
    public int QueryCacheEntries { get; set; } = 4096;

    /// <summary>
    /// The directories this gateway may read: images added by path, directory ingest sources and the content
    /// endpoint. Resolved through symbolic links; none by default.
    /// </summary>
    public List<string> FileRoots { get; set; } = [];

    /// <summary>Blob sources ingest may read: "container" (all of it) or "container/prefix"; none by default.</summary>
    public List<string> AllowedContainers { get; set; } = [];

    /// <summary>Largest image accepted by upload or reference.</summary>
    public long MaxImageBytes { get; set; } = 32L << 20;

    /// <summary>Largest JSON body of any other endpoint.</summary>
    public long MaxJsonBodyBytes { get; set; } = 64 << 10;

    /// <summary>The accepted API keys (hashed); with <see cref="ApiKeysFile"/>, at least one is required.</summary>
    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    /// <summary>A file of "name role sha256" lines, e.g. a mounted Kubernetes Secret; read once at start.</summary>
    public string? ApiKeysFile { get; set; }

    public RateLimitSettings RateLimit { get; set; } = new();

    public QuotaSettings Quotas { get; set; } = new();

    /// <summary>Text-tower runs (query-cache misses) at once; further misses wait up to <see cref="TextTowerQueueTimeout"/>, then get 503.</summary>
    public int TextTowerConcurrency { get; set; } = Math.Max(2, Environment.ProcessorCount);

    public TimeSpan TextTowerQueueTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The configured keys and those of <see cref="ApiKeysFile"/>.</summary>
    public IReadOnlyList<ApiKeyEntry> AllApiKeys() =>
        ApiKeysFile is { Length: > 0 } file && File.Exists(file) ? [.. ApiKeys, .. ApiKeyStore.ReadFile(file)] : ApiKeys;
}

/// <summary>Per-key request rate (token bucket) and upload concurrency.</summary>
public sealed class RateLimitSettings
{
    public int RequestsPerSecond { get; set; } = 50;

    public int Burst { get; set; } = 100;

    public int ConcurrentUploads { get; set; } = 16;

    public int QueuedUploads { get; set; } = 32;
}

/// <summary>Bounds on what callers may ask the cluster to hold or do.</summary>
public sealed class QuotaSettings
{
    /// <summary>Indexes the cluster may hold (counted from the stored definitions); deleting one frees its slot.</summary>
    public int MaxIndexes { get; set; } = 64;

    public int MaxShardsPerIndex { get; set; } = 256;

    public int MaxIvfLists { get; set; } = 65_536;

    /// <summary>Ingest jobs not yet finished, across the cluster.</summary>
    public int MaxActiveJobs { get; set; } = 16;

    /// <summary>Server-side cap on an ingest job's per-image maxBytes.</summary>
    public long MaxIngestImageBytes { get; set; } = 64L << 20;
}
