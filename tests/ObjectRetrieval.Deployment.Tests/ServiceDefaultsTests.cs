using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ObjectRetrieval.Deployment.Tests.Infrastructure;
using ObjectRetrieval.ServiceDefaults;
using OpenTelemetry.Trace;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>What every process gets from AddServiceDefaults/MapServiceDefaults.</summary>
[Collection(ServiceHostCollection.Name)]
public sealed class ServiceDefaultsTests
{
    [Fact]
    public async Task Readiness_runs_only_the_checks_tagged_ready_and_liveness_ignores_them()
    {
        await using var host = await TestHost.StartAsync(builder => builder.Services.AddHealthChecks()
            .AddCheck("cluster", () => HealthCheckResult.Unhealthy("not joined"), [ServiceDefaultsExtensions.ReadyTag]));

        var live = await host.Http.GetAsync(ServiceDefaultsExtensions.LivePath.TrimStart('/'));
        var ready = await host.Http.GetAsync(ServiceDefaultsExtensions.ReadyPath.TrimStart('/'));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Contains("\"name\":\"cluster\"", body);
        Assert.Contains("not joined", body);
        Assert.DoesNotContain("\"cluster\"", await live.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Ready_when_the_ready_checks_pass()
    {
        await using var host = await TestHost.StartAsync(builder => builder.Services.AddHealthChecks()
            .AddCheck("shards", () => HealthCheckResult.Healthy(), [ServiceDefaultsExtensions.ReadyTag]));
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync(ServiceDefaultsExtensions.ReadyPath.TrimStart('/'))).StatusCode);
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_format()
    {
        await using var host = await TestHost.StartAsync();
        var response = await host.Http.GetAsync(ServiceDefaultsExtensions.MetricsPath.TrimStart('/'));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Tracing_is_off_without_an_otlp_endpoint()
    {
        await using var host = await TestHost.StartAsync();
        Assert.Null(host.App.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task Tracing_is_on_with_an_otlp_endpoint()
    {
        await using var host = await TestHost.StartAsync(settings: new Dictionary<string, string?>
        {
            [ServiceDefaultsExtensions.OtlpEndpointKey] = "http://127.0.0.1:9",
        });
        Assert.NotNull(host.App.Services.GetService<TracerProvider>());
    }

    [Theory]
    [InlineData("/metrics", true)]
    [InlineData("/health/ready", true)]
    [InlineData("/api/v1/search", false)]
    public void Scrapes_and_probes_are_kept_out_of_traces(string path, bool operational)
    {
        Assert.Equal(operational, ServiceDefaultsExtensions.IsOperationalPath(path));
    }
}
