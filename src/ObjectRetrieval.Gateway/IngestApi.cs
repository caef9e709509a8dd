using ObjectRetrieval.Abstractions.Security;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Gateway.Api;
using ObjectRetrieval.Gateway.Security;
using Microsoft.Extensions.Options;

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
        // Jobs read sources and write indexes, and their failure lists name files: writers only.
        RouteGroupBuilder jobs = api.MapGroup(string.Empty).RequireAuthorization(ApiPolicies.Write);
        jobs.MapPost("/indexes/{name}/ingest-jobs", StartAsync).WithName("StartIngestJob").WithSummary("Starts ingesting an allowed blob container (and prefix) or an allowed directory into the index.");
        jobs.MapGet("/ingest-jobs/{id}", GetAsync).WithName("GetIngestJob").WithSummary("A job's state and counts, images per second and ETA.");
        jobs.MapGet("/ingest-jobs/{id}/failures", FailuresAsync).WithName("GetIngestFailures").WithSummary("The images a job could not use and why, a page at a time.");
        jobs.MapPost("/ingest-jobs/{id}/cancel", (string id, IGrainFactory grains) => ControlAsync(id, grains, job => job.CancelAsync())).WithName("CancelIngestJob");
        jobs.MapPost("/ingest-jobs/{id}/pause", (string id, IGrainFactory grains) => ControlAsync(id, grains, job => job.PauseAsync())).WithName("PauseIngestJob");
        jobs.MapPost("/ingest-jobs/{id}/resume", (string id, IGrainFactory grains) => ControlAsync(id, grains, job => job.ResumeAsync())).WithName("ResumeIngestJob");
        return api;
    }

    public static async Task<Results<Created<IngestJobResponse>, Ok<IngestJobResponse>, ProblemHttpResult>> StartAsync(
        string name, StartIngestRequest request, IGrainFactory grains, FileRoots roots, IOptions<GatewayOptions> gatewayOptions)
    {
        if (!IndexDefinition.IsValidName(name)) return Problems.BadRequest("Invalid index name", $"'{name}' is not an index name.");
        bool hasContainer = !string.IsNullOrWhiteSpace(request.Container);
        bool hasDirectory = !string.IsNullOrWhiteSpace(request.Directory);
        if (hasContainer == hasDirectory) return Problems.BadRequest("Invalid source", "Name exactly one source: a container (with an optional prefix) or a directory.");
        if (request.JobId is not null && !IngestNames.IsValidJobId(request.JobId)) return Problems.BadRequest("Invalid job id", "A job id has 1–64 letters, digits, '-' or '_'.");
        GatewayOptions gateway = gatewayOptions.Value;
        QuotaSettings quotas = gateway.Quotas;
        if (request.Extensions is { } asked && asked.FirstOrDefault(e => !IsImageExtension(e)) is { } odd)
        {
            return Problems.BadRequest("Invalid ingest options", $"Extension '{Shorten(odd)}' is not an image extension; allowed: {string.Join(", ", IngestJobOptions.ImageExtensions)}.");
        }

        if (request.MaxBytes > quotas.MaxIngestImageBytes)
        {
            return Problems.QuotaExceeded($"maxBytes may be at most {quotas.MaxIngestImageBytes} ({GatewayOptions.SectionName}:Quotas:MaxIngestImageBytes); it was {request.MaxBytes}.");
        }

        var options = new IngestJobOptions(
            request.BatchSize,
            request.Extensions is { Count: > 0 } extensions ? extensions.Select(e => e.StartsWith('.') ? e : "." + e).Distinct(StringComparer.OrdinalIgnoreCase).ToArray() : IngestJobOptions.ImageExtensions,
            request.MaxBytes ?? Math.Min(IngestJobOptions.Default.MaxBytes, quotas.MaxIngestImageBytes));
        if (options.Problem() is { } problem) return Problems.BadRequest("Invalid ingest options", problem);

        // Sources by allow-list: a directory's real path (links resolved) under a configured root, a container (and prefix) configured.
        IngestSource source;
        string shownSource;
        if (hasDirectory)
        {
            if (!Path.IsPathFullyQualified(request.Directory!)) return Problems.BadRequest("Invalid source", "The directory must be an absolute path.");
            if (roots.Resolve(request.Directory!) is not { } allowed)
            {
                return Problems.SourceNotAllowed($"The directory is not under a root this gateway may read ({GatewayOptions.SectionName}:FileRoots, links resolved).");
            }

            source = IngestSource.Folder(allowed.Path);
            shownSource = SourceDescription(source, allowed.Root);
        }
        else
        {
            string container = request.Container!.Trim();
            if (!IsAllowedContainer(container, request.Prefix, gateway.AllowedContainers))
            {
                return Problems.SourceNotAllowed($"Container '{Shorten(container)}' with prefix '{Shorten(request.Prefix ?? string.Empty)}' is not among the allowed sources ({GatewayOptions.SectionName}:AllowedContainers).");
            }

            source = IngestSource.Container(container, request.Prefix);
            shownSource = SourceDescription(source, null);
        }

        if (await grains.GetGrain<IIndexGrain>(name).GetDefinitionAsync() is null) return Problems.UnknownIndex(name);
        IReadOnlyList<string> active = await grains.GetGrain<IIngestJobRegistryGrain>(IIngestJobRegistryGrain.Key).ListAsync();
        if (active.Count >= quotas.MaxActiveJobs && (request.JobId is null || !active.Contains(request.JobId)))
        {
            return Problems.QuotaExceeded($"{active.Count} ingest jobs are unfinished; at most {quotas.MaxActiveJobs} may run at once ({GatewayOptions.SectionName}:Quotas:MaxActiveJobs).");
        }

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
            return Problems.BadRequest("Ingest job refused", e.Message.Replace(source.Location, shownSource, StringComparison.Ordinal));
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
        s.JobId, s.Index, SourceDescription(s.Source, null), s.Phase.ToString().ToLowerInvariant(), s.ListingComplete, s.Listed, s.Skipped, s.Queued, s.InFlight,
        s.Indexed, s.Failed, s.Unchanged, Math.Round(s.ImagesPerSecond, 1), s.EtaSeconds is { } eta ? Math.Round(eta, 1) : null,
        s.CreatedAt, s.FinishedAt, s.Message?.Replace(s.Source.Location, SourceDescription(s.Source, null), StringComparison.Ordinal), s.BatchesDone, s.LeasesReissued, s.BatchesInFlightBySilo);

    /// <summary>A source as answers show it: the container and prefix, or a directory by its name alone (never an absolute path).</summary>
    private static string SourceDescription(IngestSource source, string? root)
    {
        if (source.Kind == IngestSourceKind.Blob) return $"blob {source.Location}/{source.Prefix}";
        string shown = root is not null && source.Location.Length > root.Length
            ? Path.GetFileName(root) + "/" + Path.GetRelativePath(root, source.Location).Replace('\\', '/')
            : Path.GetFileName(Path.TrimEndingDirectorySeparator(source.Location));
        return "directory " + shown;
    }

    private static bool IsImageExtension(string extension)
    {
        string dotted = extension.StartsWith('.') ? extension : "." + extension;
        return IngestJobOptions.ImageExtensions.Contains(dotted, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>"container" allows all of it; "container/prefix" allows names under that prefix.</summary>
    private static bool IsAllowedContainer(string container, string? prefix, IEnumerable<string> allowed)
    {
        string asked = prefix ?? string.Empty;
        foreach (string entry in allowed)
        {
            int slash = entry.IndexOf('/', StringComparison.Ordinal);
            string allowedContainer = slash < 0 ? entry : entry[..slash];
            string allowedPrefix = slash < 0 ? string.Empty : entry[(slash + 1)..];
            if (string.Equals(container, allowedContainer, StringComparison.Ordinal) && asked.StartsWith(allowedPrefix, StringComparison.Ordinal)) return true;
        }

        return false;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
