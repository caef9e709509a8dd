using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Abstractions;

namespace ObjectRetrieval.Gateway.Security;

/// <summary>A request the gateway cannot take now (a bounded stage is full); the caller should retry after <see cref="RetryAfter"/>.</summary>
public sealed class AdmissionRejectedException(string stage, TimeSpan retryAfter)
    : Exception($"The {stage} is at its concurrency limit; retry in {retryAfter.TotalSeconds:0.#} s.")
{
    public string Stage { get; } = stage;

    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Errors of the caller's making that surface as exceptions (a body over its limit, malformed JSON read by hand) become
/// 4xx problem details, and a full stage becomes 503 with Retry-After, instead of a 500.
/// </summary>
internal sealed class GatewayExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted) return false;
        switch (exception)
        {
            case AdmissionRejectedException full:
                await GatewaySecurity.WriteOverloadAsync(context, StatusCodes.Status503ServiceUnavailable, full.RetryAfter, "Busy", full.Message);
                return true;
            case BadHttpRequestException bad:
                await WriteAsync(context, bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Body too large" : "Bad request", bad.Message);
                return true;
            case JsonException json:
                await WriteAsync(context, StatusCodes.Status400BadRequest, "Malformed JSON", json.Message);
                return true;
            case UnknownIndexException unknown:
                context.RequestServices.GetRequiredService<IndexCatalog>().Forget(unknown.IndexName);
                await WriteAsync(context, StatusCodes.Status404NotFound, "Unknown index", $"There is no index named '{unknown.IndexName}'.");
                return true;
            default:
                return await IndexDeletedMeanwhileAsync(context);
        }
    }

    /// <summary>
    /// A call that failed because its index was deleted while it ran (its shards no longer activate) is a 404 for
    /// that index, not a server error; the index is dropped from this gateway's catalog.
    /// </summary>
    private static async Task<bool> IndexDeletedMeanwhileAsync(HttpContext context)
    {
        if (context.GetRouteValue("name") is not string name || !IndexDefinition.IsValidName(name)) return false;
        try
        {
            if (await context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IIndexGrain>(name).GetDefinitionAsync() is not null) return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }

        context.RequestServices.GetRequiredService<IndexCatalog>().Forget(name);
        await WriteAsync(context, StatusCodes.Status404NotFound, "Unknown index", $"There is no index named '{name}'.");
        return true;
    }

    private static Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return Results.Problem(detail, statusCode: status, title: title).ExecuteAsync(context);
    }
}
