using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ObjectRetrieval.ServiceDefaults;

/// <summary>
/// Writes a health report as a small JSON document, so that an operator reading a failed probe
/// (kubectl describe, curl) sees which check failed and why. The status code stays the framework's:
/// 200 for Healthy and Degraded, 503 for Unhealthy.
/// </summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new HealthReportBody(
            report.Status.ToString(),
            report.TotalDuration.TotalMilliseconds,
            report.Entries.Select(entry => new HealthEntryBody(
                entry.Key,
                entry.Value.Status.ToString(),
                entry.Value.Description,
                entry.Value.Exception?.Message)).ToArray());
        return JsonSerializer.SerializeAsync(context.Response.Body, body, HealthJsonContext.Default.HealthReportBody, context.RequestAborted);
    }
}

internal sealed record HealthReportBody(string Status, double DurationMs, HealthEntryBody[] Checks);

internal sealed record HealthEntryBody(string Name, string Status, string? Description, string? Error);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReportBody))]
internal sealed partial class HealthJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
