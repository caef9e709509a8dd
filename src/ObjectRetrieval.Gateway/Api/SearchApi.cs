using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway.Security;

namespace ObjectRetrieval.Gateway.Api;

public static class SearchApi
{
    public const int MaxQueryLength = 1000;
    public const int MaxK = 1000;

    /// <summary>Most IVF lists one search may probe (the list-count quota's default is far above any useful probe).</summary>
    public const int MaxNProbe = 4096;

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/indexes/{name}/search", SearchAsync)
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("Search")
            .WithSummary("Top-k images containing the object the query names, merged over all shards.");
        return api;
    }

    public static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchAsync(
        string name, SearchRequest request, IndexCatalog catalog, QueryEmbeddingCache embeddings, ShardFanOut fanOut, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        if (string.IsNullOrWhiteSpace(request.Query)) return Problems.BadRequest("Empty query", "Give the object to look for in \"query\".");
        if (request.Query.Length > MaxQueryLength) return Problems.BadRequest("Query too long", $"The query has {request.Query.Length} characters; at most {MaxQueryLength} are allowed.");
        if (request.K is < 1 or > MaxK) return Problems.BadRequest("k out of range", $"k must be between 1 and {MaxK}; it was {request.K}.");
        if (request.NProbe is < 1 or > MaxNProbe) return Problems.BadRequest("nprobe out of range", $"nprobe must be between 1 and {MaxNProbe}; it was {request.NProbe}.");
        if (!ModeVectors.TryParse(request.Mode, out ScoringMode mode))
        {
            return Problems.BadRequest("Unknown mode", $"Mode '{request.Mode}' is not one of: {string.Join(", ", Enum.GetNames<ScoringMode>().Select(m => m.ToLowerInvariant()))}.");
        }

        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        if (mode == ScoringMode.Dense && !index.KeepDense) return Problems.BadRequest("Mode unavailable", $"Index '{name}' was built without dense patches; use cluster or global.");
        if (embeddings.Embedder.Model != index.Model || embeddings.Embedder.Dimension != index.Dimension)
        {
            return Problems.BadRequest("Model mismatch", $"Index '{name}' was built with model '{index.Model}' (D={index.Dimension}); this gateway embeds queries with '{embeddings.Embedder.Model}' (D={embeddings.Embedder.Dimension}).");
        }

        string modeName = mode.ToString().ToLowerInvariant();
        SearchOutcome outcome;
        try
        {
            float[] vector = await embeddings.EmbedAsync(request.Query, cancellationToken);
            outcome = await fanOut.SearchAsync(index, new ShardQuery(vector, request.K, mode, request.NProbe, request.Explain), cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A caller that went away is not an error of the service; anything else is.
            SearchMetrics.RecordSearch(index.Name, modeName, SearchMetrics.Outcomes.Error, Stopwatch.GetElapsedTime(started));
            throw;
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        SearchMetrics.RecordSearch(index.Name, modeName, outcome.Partial ? SearchMetrics.Outcomes.Partial : SearchMetrics.Outcomes.Ok, elapsed);
        return TypedResults.Ok(new SearchResponse(
            index.Name,
            request.Query,
            modeName,
            outcome.Hits.Select(ToResponse).ToArray(),
            elapsed.TotalMilliseconds,
            outcome.Partial,
            outcome.MissingShards));
    }

    private static SearchHitResponse ToResponse(ShardHit hit) =>
        new(hit.ImageId, hit.Score, hit.MatchedCluster, hit.Region is null ? null : ToResponse(hit.Region));

    private static RegionResponse ToResponse(RegionMask region)
    {
        var rows = new string[region.GridHeight];
        for (int y = 0; y < rows.Length; y++)
        {
            rows[y] = string.Create(region.GridWidth, (region, y), static (row, state) =>
            {
                for (int x = 0; x < row.Length; x++)
                {
                    int cell = state.y * state.region.GridWidth + x;
                    row[x] = cell < state.region.Mask.Length && state.region.Mask[cell] != 0 ? '1' : '0';
                }
            });
        }

        return new RegionResponse(region.GridWidth, region.GridHeight, rows);
    }
}
