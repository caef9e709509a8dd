using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;

namespace ObjectRetrieval.Grains;

/// <summary>
/// Counts the cluster's indexes from the definitions in index storage (the one record of what exists, so nothing
/// here can drift from it) and serialises creations against the quota. On index silos, which hold the storage.
/// </summary>
[SiloRolePlacementFilter(SiloRoles.Index)]
public sealed class IndexCatalogGrain(IIndexStorage storage) : Grain, IIndexCatalogGrain
{
    public Task<IReadOnlyList<string>> ListAsync() => storage.ListIndexesAsync();

    public async Task<IndexCreation> CreateWithinAsync(IndexDefinition definition, int maxIndexes)
    {
        ArgumentNullException.ThrowIfNull(definition);
        IReadOnlyList<string> existing = await storage.ListIndexesAsync();
        if (!existing.Contains(definition.Name, StringComparer.Ordinal) && existing.Count >= maxIndexes) return IndexCreation.QuotaReached;
        return await GrainFactory.GetGrain<IIndexGrain>(definition.Name).CreateAsync(definition);
    }
}
