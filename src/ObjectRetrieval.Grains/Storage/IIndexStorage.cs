using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Grains.Storage;

/// <summary>Where indexes keep their definitions and shards: a local directory or a blob container.</summary>
public interface IIndexStorage
{
    /// <summary>Human-readable location for logs ("directory /data/indexes", "blob container objret").</summary>
    string Description { get; }

    Task<byte[]?> ReadDefinitionAsync(string indexName, CancellationToken cancellationToken = default);

    Task WriteDefinitionAsync(string indexName, ReadOnlyMemory<byte> definition, CancellationToken cancellationToken = default);

    /// <summary>Names of the indexes whose definition is stored: the cluster's indexes.</summary>
    Task<IReadOnlyList<string>> ListIndexesAsync(CancellationToken cancellationToken = default);

    /// <summary>The store of one shard, by the shard's grain key ("index/shard-NNN", also its relative path).</summary>
    IShardStore OpenShard(string shardKey);

    /// <summary>Checks that the storage answers (readiness).</summary>
    Task ProbeAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the index's definition and every shard's segments and logs; an index that does not exist is no error.</summary>
    Task DeleteIndexAsync(string indexName, CancellationToken cancellationToken = default);
}

/// <summary>The index-level file name shared by both implementations (the shard engine names the shards' files).</summary>
internal static class StorageNames
{
    public const string Definition = "definition.json";
}
