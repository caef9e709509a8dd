using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ObjectRetrieval.ServiceDefaults;

/// <summary>
/// Telemetry and health endpoints shared by every process: call <see cref="AddServiceDefaults{TBuilder}"/>
/// on the builder and <see cref="MapServiceDefaults"/> on the application. The names and paths here are
/// the ones deploy/METRICS.md, the Helm chart and the Grafana dashboards rely on.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Prometheus scrape path (text exposition format, OpenMetrics when asked for).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Liveness: the process is up and serving HTTP. Runs only checks tagged <see cref="LiveTag"/>.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: runs only checks tagged <see cref="ReadyTag"/> (e.g. silo joined the cluster, shards answer).</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Tag of the health checks that decide readiness.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Tag of the health checks that decide liveness; keep them cheap and free of dependencies.</summary>
    public const string LiveTag = "live";

    /// <summary>Meters exported at <see cref="MetricsPath"/>. "ObjectRetrieval.*" covers every meter of this repository.</summary>
    public static readonly IReadOnlyList<string> MeterNames =
    [
        "ObjectRetrieval.*",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.Orleans",
    ];

    /// <summary>Activity sources traced when an OTLP endpoint is configured.</summary>
    public static readonly IReadOnlyList<string> ActivitySourceNames =
    [
        "ObjectRetrieval.*",
        "Microsoft.Orleans.Runtime",
        "Microsoft.Orleans.Application",
    ];

    /// <summary>The standard OpenTelemetry setting that switches the OTLP exporter on.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Adds OpenTelemetry metrics (Prometheus exporter), tracing (OTLP, only when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set) and the liveness health check.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // OTEL_SERVICE_NAME, when set (the chart sets it per component), wins over the application name.
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured
            ? configured
            : builder.Environment.ApplicationName;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                foreach (var meter in MeterNames)
                {
                    metrics.AddMeter(meter);
                }

                // On .NET 9+ this enables the runtime's built-in "System.Runtime" meter (dotnet.* instruments).
                metrics.AddRuntimeInstrumentation();
                metrics.AddPrometheusExporter();
            });

        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]))
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(options => options.Filter = context => !IsOperationalPath(context.Request.Path));
                foreach (var source in ActivitySourceNames)
                {
                    tracing.AddSource(source);
                }

                // Endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* settings.
                tracing.AddOtlpExporter();
            });
        }

        builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("Serving HTTP."), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Maps <c>/metrics</c>, <c>/health/live</c> and <c>/health/ready</c>, all without authentication (probes and
    /// scrapers carry no key). With <paramref name="managementPort"/>, <c>/metrics</c> answers only on that port,
    /// which the chart keeps off the public service; without it, on every port the process listens on.
    /// </summary>
    public static TEndpoints MapServiceDefaults<TEndpoints>(this TEndpoints endpoints, int? managementPort = null)
        where TEndpoints : IEndpointRouteBuilder
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        IEndpointConventionBuilder metrics = endpoints.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous();
        if (managementPort is { } port) metrics.RequireHost(string.Create(CultureInfo.InvariantCulture, $"*:{port}"));
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        }).AllowAnonymous();
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(ReadyTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        }).AllowAnonymous();
        return endpoints;
    }

    /// <summary>Scrapes and probes: kept out of traces, they would drown the requests that matter.</summary>
    public static bool IsOperationalPath(PathString path) =>
        path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);
}
