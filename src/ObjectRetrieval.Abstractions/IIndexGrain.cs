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
