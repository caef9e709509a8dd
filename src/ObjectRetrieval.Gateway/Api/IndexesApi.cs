using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Gateway.Security;
using Microsoft.Extensions.Options;

namespace ObjectRetrieval.Gateway.Api;

public static class IndexesApi
{
    public static IEndpointRouteBuilder MapIndexesApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/indexes", CreateAsync).RequireAuthorization(ApiPolicies.Admin).WithName("CreateIndex").WithSummary("Creates an index (idempotent for the same definition).");
        api.MapDelete("/indexes/{name}", DeleteAsync).RequireAuthorization(ApiPolicies.Admin).WithName("DeleteIndex")
            .WithSummary("Deletes an index: cancels its unfinished ingest jobs, deactivates its shards, removes its storage.");
        api.MapGet("/indexes/{name}", GetAsync).RequireAuthorization(ApiPolicies.Read).WithName("GetIndex").WithSummary("An index's definition and statistics, in total and per shard.");
        return api;
    }

    public static async Task<Results<Created<IndexDefinitionResponse>, Ok<IndexDefinitionResponse>, ProblemHttpResult>> CreateAsync(
        CreateIndexRequest request, IndexCatalog catalog, QueryEmbeddingCache embeddings, IOptions<GatewayOptions> options)
    {
        QuotaSettings quotas = options.Value.Quotas;
        if (request.Shards > quotas.MaxShardsPerIndex)
        {
            return Problems.QuotaExceeded($"An index may have at most {quotas.MaxShardsPerIndex} shards ({GatewayOptions.SectionName}:Quotas:MaxShardsPerIndex); {request.Shards} were asked for.");
        }

        if (request.Ivf is { } asked && asked.ListCount > quotas.MaxIvfLists)
        {
            return Problems.QuotaExceeded($"An index may have at most {quotas.MaxIvfLists} IVF lists ({GatewayOptions.SectionName}:Quotas:MaxIvfLists); {asked.ListCount} were asked for.");
        }

        if (!Enum.TryParse(request.Codec, ignoreCase: true, out VectorCodecKind codec) || !Enum.IsDefined(codec))
        {
            return Problems.BadRequest("Unknown codec", $"Codec '{request.Codec}' is not one of: int8, float16, float32.");
        }

        if (!Enum.TryParse(request.Aggregation, ignoreCase: true, out AggregationStrategy aggregation) || !Enum.IsDefined(aggregation))
        {
            return Problems.BadRequest("Unknown aggregation", $"Aggregation '{request.Aggregation}' is not one of: cover, hybrid, kmeans, kcenter.");
        }

        var definition = new IndexDefinition(
            request.Name ?? string.Empty,
            request.Model ?? embeddings.Embedder.Model,
            request.Dimension ?? embeddings.Embedder.Dimension,
            request.Shards,
            request.Clusters,
            codec,
            request.Ivf is { } ivf ? new IvfSettings(ivf.ListCount, ivf.NProbe, ivf.TrainAtVectors) : null,
            request.KeepDense,
            aggregation);
        if (definition.Problem() is { } problem) return Problems.BadRequest("Invalid index definition", problem);

        return await catalog.CreateAsync(definition, quotas.MaxIndexes) switch
        {
            IndexCreation.Created => TypedResults.Created($"/api/v1/indexes/{definition.Name}", ToResponse(definition)),
            IndexCreation.AlreadyExists => TypedResults.Ok(ToResponse(definition)),
            IndexCreation.QuotaReached => Problems.QuotaReached(
                $"The cluster already holds the most indexes allowed, {quotas.MaxIndexes} ({GatewayOptions.SectionName}:Quotas:MaxIndexes); delete one to free a slot."),
            _ => Problems.Conflict($"Index '{definition.Name}' already exists with a different definition."),
        };
    }

    public static async Task<Results<Ok<IndexResponse>, ProblemHttpResult>> GetAsync(string name, IndexCatalog catalog, ShardFanOut fanOut, CancellationToken cancellationToken)
    {
        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        FanOutResult<ShardStats> stats = await fanOut.StatsAsync(index, cancellationToken);
        return TypedResults.Ok(new IndexResponse(
            ToResponse(index),
            stats.Answers.Sum(s => s.Images),
            stats.Answers.Sum(s => s.Vectors),
            stats.Answers.Sum(s => s.MemoryBytes),
            stats.Answers.Select(s => new ShardStatsResponse(s.ShardKey, s.Images, s.Vectors, s.MemoryBytes, s.Segments, s.LogRecords, s.Silo, s.MemoryByMode)).ToArray(),
            stats.Partial,
            stats.MissingShards));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, IndexCatalog catalog, IGrainFactory grains)
    {
        if (!IndexDefinition.IsValidName(name) || await catalog.FindAsync(name) is null) return Problems.UnknownIndex(name);

        // Jobs writing into the index stop first, so none upserts into shards that are going away.
        IIngestJobRegistryGrain registry = grains.GetGrain<IIngestJobRegistryGrain>(IIngestJobRegistryGrain.Key);
        foreach (string jobId in await registry.ListAsync())
        {
            IIngestJobGrain job = grains.GetGrain<IIngestJobGrain>(jobId);
            if (await job.StatusAsync() is { } status && status.Index == name && !status.IsFinished && status.Phase != IngestJobPhase.Cancelling) await job.CancelAsync();
        }

        return await catalog.DeleteAsync(name) ? TypedResults.NoContent() : Problems.UnknownIndex(name);
    }

    internal static IndexDefinitionResponse ToResponse(IndexDefinition d) => new(
        d.Name, d.Model, d.Dimension, d.ShardCount, d.Clusters, d.Aggregation.ToString().ToLowerInvariant(), d.Codec.ToString().ToLowerInvariant(),
        d.Ivf is { } ivf ? new IvfRequest(ivf.ListCount, ivf.DefaultNProbe, ivf.TrainAtVectors) : null, d.KeepDense);
}
