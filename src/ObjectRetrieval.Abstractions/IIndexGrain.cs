using Orleans.Concurrency;

namespace ObjectRetrieval.Abstractions;

/// <summary>Outcome of <see cref="IIndexGrain.CreateAsync"/>.</summary>
[GenerateSerializer, Alias("objret.IndexCreation")]
public enum IndexCreation
{
    Created,

    /// <summary>The same definition already existed: creating is idempotent.</summary>
    AlreadyExists,

    /// <summary>An index of that name exists with a different definition.</summary>
    Conflict,

    /// <summary>The cluster already holds as many indexes as allowed (only from <see cref="IIndexCatalogGrain"/>).</summary>
    QuotaReached,
}

/// <summary>One index (key: its name). Holds the definition; shards ask it what they are.</summary>
[Alias("objret.IIndexGrain")]
public interface IIndexGrain : IGrainWithStringKey
{
    [Alias("Create")]
    Task<IndexCreation> CreateAsync(IndexDefinition definition);

    /// <summary>Null when no index of this name was created. Interleaves: shards call it while they activate.</summary>
    [AlwaysInterleave, Alias("GetDefinition")]
    Task<IndexDefinition?> GetDefinitionAsync();

    /// <summary>Deactivates the index's shards and deletes its definition and storage; false when there was no such index.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync();
}

/// <summary>
/// The cluster's indexes as a whole (one grain, key <see cref="Key"/>): counts the stored definitions and creates an
/// index only while fewer than the quota exist. Creations pass through it one at a time, so two cannot both take the
/// last slot; deleting an index (<see cref="IIndexGrain.DeleteAsync"/>) removes its definition and so frees its slot.
/// </summary>
[Alias("objret.IIndexCatalogGrain")]
public interface IIndexCatalogGrain : IGrainWithStringKey
{
    const string Key = "cluster";

    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();

    /// <summary>Creates through <see cref="IIndexGrain.CreateAsync"/>; <see cref="IndexCreation.QuotaReached"/> when a new index would make more than <paramref name="maxIndexes"/>.</summary>
    [Alias("CreateWithin")]
    Task<IndexCreation> CreateWithinAsync(IndexDefinition definition, int maxIndexes);
}
