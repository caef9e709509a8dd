using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
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

        // From here on no shard can activate (the definition reads as absent), and the active ones close their files
        // before the files go: a shard still writing while its folder is removed would leave pieces of itself behind
        // for a later index of the same name to recover.
        _definition = null;
        await Task.WhenAll(Enumerable.Range(0, definition.ShardCount).Select(async shard =>
        {
            string key = ShardRouting.ShardKey(definition.Name, shard);
            try
            {
                await GrainFactory.GetGrain<IIndexShardGrain>(key).ReleaseAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // An inactive shard cannot activate without its definition, so it holds nothing open: its files go below.
                logger.LogDebug(e, "Shard {Shard} of deleted index {Index} was not active.", key, definition.Name);
            }
        }));

        try
        {
            await storage.DeleteIndexAsync(definition.Name);
        }
        catch
        {
            // The files are still there: the index stays, and deleting it again retries.
            _definition = definition;
            throw;
        }

        logger.LogInformation("Deleted index {Index} ({Shards} shards).", definition.Name, definition.ShardCount);
        return true;
    }
}
