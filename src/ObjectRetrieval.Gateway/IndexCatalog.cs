using System.Collections.Concurrent;
using ObjectRetrieval.Abstractions;

namespace ObjectRetrieval.Gateway;

/// <summary>Index definitions as the gateway sees them. Definitions never change once created, so found ones are cached.</summary>
public sealed class IndexCatalog(IGrainFactory grains)
{
    private readonly ConcurrentDictionary<string, IndexDefinition> _known = new(StringComparer.Ordinal);

    public async ValueTask<IndexDefinition?> FindAsync(string name)
    {
        if (_known.TryGetValue(name, out IndexDefinition? cached)) return cached;
        if (!IndexDefinition.IsValidName(name)) return null;
        IndexDefinition? definition = await grains.GetGrain<IIndexGrain>(name).GetDefinitionAsync().ConfigureAwait(false);
        if (definition is not null) _known[name] = definition;
        return definition;
    }

    /// <summary>Deletes the index; other gateways' cached definitions lapse when they restart (their shard calls then fail to activate).</summary>
    public async Task<bool> DeleteAsync(string name)
    {
        bool deleted = await grains.GetGrain<IIndexGrain>(name).DeleteAsync().ConfigureAwait(false);
        Forget(name);
        return deleted;
    }

    /// <summary>Drops a cached definition (the index was deleted, possibly through another gateway).</summary>
    public void Forget(string name) => _known.TryRemove(name, out _);

    /// <summary>Creates the index unless that would make the cluster hold more than <paramref name="maxIndexes"/>.</summary>
    public async Task<IndexCreation> CreateAsync(IndexDefinition definition, int maxIndexes)
    {
        IndexCreation outcome = await grains.GetGrain<IIndexCatalogGrain>(IIndexCatalogGrain.Key).CreateWithinAsync(definition, maxIndexes).ConfigureAwait(false);
        if (outcome is IndexCreation.Created or IndexCreation.AlreadyExists) _known[definition.Name] = definition;
        return outcome;
    }
}
