using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Orleans.Core.Internal;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;

namespace ObjectRetrieval.Grains;

/// <summary>Keeps an index's definition, written once to index storage as JSON beside the index's shards; on index silos, which hold the storage.</summary>
[SiloRolePlacementFilter(SiloRoles.Index)]
public sealed class IndexGrain(IIndexStorage storage, ILogger<IndexGrain> logger) : Grain, IIndexGrain
{
    internal static readonly JsonSerializerOptions DefinitionJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private IndexDefinition? _definition;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        byte[]? stored = await storage.ReadDefinitionAsync(this.GetPrimaryKeyString(), cancellationToken);
        if (stored is not null) _definition = JsonSerializer.Deserialize<IndexDefinition>(stored, DefinitionJson);
    }

    public async Task<IndexCreation> CreateAsync(IndexDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Name != this.GetPrimaryKeyString()) throw new ArgumentException($"Definition names '{definition.Name}' but this is index '{this.GetPrimaryKeyString()}'.");
        if (definition.Problem() is { } problem) throw new ArgumentException(problem);
        if (_definition is not null) return _definition == definition ? IndexCreation.AlreadyExists : IndexCreation.Conflict;

        await storage.WriteDefinitionAsync(definition.Name, JsonSerializer.SerializeToUtf8Bytes(definition, DefinitionJson));
        _definition = definition;
        logger.LogInformation("Created index {Index}: {Shards} shards, D={Dimension}, K={Clusters}, {Codec}, model {Model}.",
            definition.Name, definition.ShardCount, definition.Dimension, definition.Clusters, definition.Codec, definition.Model);
        return IndexCreation.Created;
    }

    public Task<IndexDefinition?> GetDefinitionAsync() => Task.FromResult(_definition);

    public async Task<bool> DeleteAsync()
    {
        if (_definition is not { } definition) return false;

        // Shards drop their memory first; once the definition is gone none can activate again, then the files go.
        await Task.WhenAll(Enumerable.Range(0, definition.ShardCount).Select(async shard =>
        {
            string key = ShardRouting.ShardKey(definition.Name, shard);
            try
            {
                await GrainFactory.GetGrain<IIndexShardGrain>(key).Cast<IGrainManagementExtension>().DeactivateOnIdle();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A shard that cannot activate (damaged storage) holds nothing in memory; its files go below.
                logger.LogWarning(e, "Shard {Shard} of deleted index {Index} did not deactivate cleanly.", key, definition.Name);
            }
        }));
        _definition = null;
        await storage.DeleteIndexAsync(definition.Name);
        logger.LogInformation("Deleted index {Index} ({Shards} shards).", definition.Name, definition.ShardCount);
        return true;
    }
}
