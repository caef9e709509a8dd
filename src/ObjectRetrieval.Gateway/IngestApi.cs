using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Gateway.Api;

namespace ObjectRetrieval.Gateway;

/// <summary>POST /api/v1/indexes/{name}/ingest-jobs. One of <see cref="Container"/> (with an optional prefix) or <see cref="Directory"/>.</summary>
public sealed record StartIngestRequest(
    string? Container = null,
    string? Prefix = null,
    string? Directory = null,
    int BatchSize = 256,
    IReadOnlyList<string>? Extensions = null,
    long? MaxBytes = null,
    string? JobId = null);

public sealed record IngestJobResponse(
    string Id,
    string Index,
    string Source,
    string State,
    bool ListingComplete,
    long Listed,
    long Skipped,
    long Queued,
    long InFlight,
    long Indexed,
    long Failed,
    long Unchanged,
    double ImagesPerSecond,
    double? EtaSeconds,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string? Message,
    long BatchesDone,
    long LeasesReissued,
    IReadOnlyDictionary<string, int> BatchesInFlightBySilo);

public sealed record IngestFailureResponse(string Name, string Reason, string Message);

public sealed record IngestFailuresResponse(string JobId, long Total, long Offset, IReadOnlyList<IngestFailureResponse> Failures, string? Next);

/// <summary>Ingest jobs: start one on an index, watch it, read its failures, cancel, pause or resume it.</summary>
public static class IngestApi
{
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/indexes/{name}/ingest-jobs", StartAsync).WithName("StartIngestJob").WithSummary("Starts ingesting a blob container (and prefix) or a directory into the index.");
        api.MapGet("/ingest-jobs/{id}", GetAsync).WithName("GetIngestJob").WithSummary("A job's state and counts, images per second and ETA.");
        api.MapGet("/ingest-jobs/{id}/failures", FailuresAsync).WithName("GetIngestFailures").WithSummary("The images a job could not use and why, a page at a time.");
        api.MapPost("/ingest-jobs/{id}/cancel", (string id, IGrainFactory grains) => ControlAsync(id, grains, job => job.CancelAsync())).WithName("CancelIngestJob");
        api.MapPost("/ingest-jobs/{id}/pause", (string id, IGrainFactory grains) => ControlAsync(id, grains, job => job.PauseAsync())).WithName("PauseIngestJob");
        api.MapPost("/ingest-jobs/{id}/resume", (string id, IGrainFactory grains) => ControlAsync(id, grains, job => job.ResumeAsync())).WithName("ResumeIngestJob");
        return api;
    }

    public static async Task<Results<Created<IngestJobResponse>, Ok<IngestJobResponse>, ProblemHttpResult>> StartAsync(
        string name, StartIngestRequest request, IGrainFactory grains)
    {
        if (!IndexDefinition.IsValidName(name)) return Problems.BadRequest("Invalid index name", $"'{name}' is not an index name.");
        bool hasContainer = !string.IsNullOrWhiteSpace(request.Container);
        bool hasDirectory = !string.IsNullOrWhiteSpace(request.Directory);
        if (hasContainer == hasDirectory) return Problems.BadRequest("Invalid source", "Name exactly one source: a container (with an optional prefix) or a directory.");
        if (hasDirectory && !Path.IsPathFullyQualified(request.Directory!)) return Problems.BadRequest("Invalid source", $"Directory '{request.Directory}' must be an absolute path.");
        if (request.JobId is not null && !IngestNames.IsValidJobId(request.JobId)) return Problems.BadRequest("Invalid job id", "A job id has 1–64 letters, digits, '-' or '_'.");
        var options = new IngestJobOptions(
            request.BatchSize,
            request.Extensions is { Count: > 0 } extensions ? extensions.Select(e => e.StartsWith('.') ? e : "." + e).ToArray() : IngestJobOptions.ImageExtensions,
            request.MaxBytes ?? IngestJobOptions.Default.MaxBytes);
        if (options.Problem() is { } problem) return Problems.BadRequest("Invalid ingest options", problem);
        if (await grains.GetGrain<IIndexGrain>(name).GetDefinitionAsync() is null) return Problems.UnknownIndex(name);

        IngestSource source = hasContainer ? IngestSource.Container(request.Container!.Trim(), request.Prefix) : IngestSource.Folder(request.Directory!);
        string id = request.JobId ?? "ingest-" + Guid.NewGuid().ToString("N")[..16];
        IIngestJobGrain job = grains.GetGrain<IIngestJobGrain>(id);
        bool existed = await job.StatusAsync() is not null;
        try
        {
            IngestJobStatus status = await job.StartAsync(name, source, options);
            return existed ? TypedResults.Ok(ToResponse(status)) : TypedResults.Created($"/api/v1/ingest-jobs/{id}", ToResponse(status));
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest("Ingest job refused", e.Message);
        }
    }

    public static async Task<Results<Ok<IngestJobResponse>, ProblemHttpResult>> GetAsync(string id, IGrainFactory grains)
    {
        if (!IngestNames.IsValidJobId(id)) return UnknownJob(id);
        IngestJobStatus? status = await grains.GetGrain<IIngestJobGrain>(id).StatusAsync();
        return status is null ? UnknownJob(id) : TypedResults.Ok(ToResponse(status));
    }

    public static async Task<Results<Ok<IngestFailuresResponse>, ProblemHttpResult>> FailuresAsync(string id, IGrainFactory grains, long offset = 0, int limit = 100)
    {
        if (offset < 0) return Problems.BadRequest("Invalid offset", "offset must not be negative.");
        if (limit is < 1 or > IngestNames.FailurePageSize) return Problems.BadRequest("Invalid limit", $"limit must be between 1 and {IngestNames.FailurePageSize}.");
        if (!IngestNames.IsValidJobId(id)) return UnknownJob(id);
        IIngestJobGrain job = grains.GetGrain<IIngestJobGrain>(id);
        if (await job.StatusAsync() is null) return UnknownJob(id);
        IngestFailurePage page = await job.FailuresAsync(offset, limit);
        long end = page.Offset + page.Failures.Count;
        string? next = end < page.Total ? string.Create(CultureInfo.InvariantCulture, $"/api/v1/ingest-jobs/{id}/failures?offset={end}&limit={limit}") : null;
        return TypedResults.Ok(new IngestFailuresResponse(id, page.Total, page.Offset, page.Failures.Select(f => new IngestFailureResponse(f.Name, f.Reason, f.Message)).ToArray(), next));
    }

    private static async Task<Results<Ok<IngestJobResponse>, ProblemHttpResult>> ControlAsync(string id, IGrainFactory grains, Func<IIngestJobGrain, Task<IngestJobStatus>> action)
    {
        if (!IngestNames.IsValidJobId(id)) return UnknownJob(id);
        IIngestJobGrain job = grains.GetGrain<IIngestJobGrain>(id);
        if (await job.StatusAsync() is null) return UnknownJob(id);
        try
        {
            return TypedResults.Ok(ToResponse(await action(job)));
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Not possible in the job's state");
        }
    }

    private static ProblemHttpResult UnknownJob(string id) =>
        TypedResults.Problem($"There is no ingest job '{id}'.", statusCode: StatusCodes.Status404NotFound, title: "Unknown ingest job");

    public static IngestJobResponse ToResponse(IngestJobStatus s) => new(
        s.JobId, s.Index, s.Source.ToString(), s.Phase.ToString().ToLowerInvariant(), s.ListingComplete, s.Listed, s.Skipped, s.Queued, s.InFlight,
        s.Indexed, s.Failed, s.Unchanged, Math.Round(s.ImagesPerSecond, 1), s.EtaSeconds is { } eta ? Math.Round(eta, 1) : null,
        s.CreatedAt, s.FinishedAt, s.Message, s.BatchesDone, s.LeasesReissued, s.BatchesInFlightBySilo);
}
