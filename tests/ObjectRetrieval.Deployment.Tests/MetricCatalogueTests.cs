using System.Text.RegularExpressions;
using ObjectRetrieval.Deployment.Tests.Infrastructure;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>
/// Tests that start ASP.NET Core hosts run one after the other: OpenTelemetry subscribes to meters by name
/// process-wide, so hosts running side by side would see each other's instruments.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServiceHostCollection : ICollectionFixture<CatalogueHostFixture>
{
    public const string Name = "Service hosts";
}

/// <summary>A process with the service defaults that emits every catalogued metric.</summary>
public sealed class CatalogueHostFixture : IAsyncLifetime
{
    public MetricCatalogue Catalogue { get; } = MetricCatalogue.Load(RepositoryPaths.MetricCatalogue);

    public TestHost Host { get; private set; } = null!;

    public CatalogueEmitter Emitter { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await TestHost.StartAsync();
        Emitter = new CatalogueEmitter(Catalogue);
    }

    public async Task DisposeAsync()
    {
        Emitter.Dispose();
        await Host.DisposeAsync();
    }

    public Task<string> ScrapeAsync() => Host.Http.GetStringAsync("metrics");
}

/// <summary>deploy/METRICS.md says how our instruments appear in Prometheus; the exporter agrees and promtool finds nothing wrong with them.</summary>
[Collection(ServiceHostCollection.Name)]
public sealed partial class MetricCatalogueTests(CatalogueHostFixture fixture)
{
    [Fact]
    public void Catalogue_lists_our_metrics_with_seconds_for_durations_and_explicit_buckets()
    {
        var own = fixture.Catalogue.Own;
        Assert.True(own.Count >= 15, $"only {own.Count} metrics parsed from METRICS.md");
        Assert.All(own, m => Assert.StartsWith("objret_", m.ExportedName));
        Assert.All(own, m => Assert.StartsWith("objret.", m.InstrumentName));
        Assert.All(own.Where(m => m.ExportedName.EndsWith("_seconds", StringComparison.Ordinal)), m =>
        {
            Assert.Equal("s", m.Unit);
            Assert.Equal("histogram", m.PrometheusType);
            Assert.NotEmpty(m.Buckets);
        });
        Assert.All(own.Where(m => m.PrometheusType == "histogram"), m => Assert.Equal(m.Buckets.Order(), m.Buckets));
        Assert.All(own, m => Assert.DoesNotContain(m.Labels, l => l.Name is "job" or "instance" or "component"));
        Assert.Equal(own.Count, own.Select(m => m.ExportedName).Distinct().Count());
    }

    [Fact]
    public async Task Exporter_names_every_catalogued_instrument_as_documented()
    {
        var text = await fixture.ScrapeAsync();
        var types = TypeLine().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["type"].Value);
        foreach (var metric in fixture.Catalogue.Own)
        {
            var family = metric.PrometheusType == "counter" ? metric.ExportedName[..^"_total".Length] : metric.ExportedName;
            Assert.True(types.ContainsKey(family) || types.ContainsKey(metric.ExportedName),
                $"{metric.InstrumentName} ({metric.Unit}) is not exported as {metric.ExportedName}; TYPE lines: {string.Join(", ", types.Keys.Where(k => k.StartsWith("objret", StringComparison.Ordinal)))}");
            var type = types.GetValueOrDefault(family) ?? types[metric.ExportedName];
            Assert.Equal(metric.PrometheusType, type);
            var sample = metric.PrometheusType == "histogram" ? metric.ExportedName + "_bucket{" : metric.ExportedName + "{";
            Assert.Contains(sample, text);
        }
    }

    [Fact]
    public async Task Histograms_use_the_catalogued_bucket_boundaries()
    {
        var text = await fixture.ScrapeAsync();
        foreach (var metric in fixture.Catalogue.Own.Where(m => m.PrometheusType == "histogram"))
        {
            var bounds = Regex.Matches(text, "^" + Regex.Escape(metric.ExportedName) + "_bucket\\{[^}]*le=\"(?<le>[^\"]+)\"", RegexOptions.Multiline)
                .Select(m => m.Groups["le"].Value).Where(le => le != "+Inf").Distinct()
                .Select(le => double.Parse(le, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
            Assert.Equal(metric.Buckets, bounds);
        }
    }

    [Fact]
    public async Task Promtool_finds_no_problem_in_our_metrics()
    {
        var result = await PromtoolCheck.Metrics(await fixture.ScrapeAsync());
        Assert.True(result.Parsed, result.ParseError);
        var ours = result.ProblemsOf("objret_");
        Assert.True(ours.Count == 0, string.Join("\n", ours));
    }

    [Fact]
    public async Task The_host_serves_runtime_metrics_next_to_ours()
    {
        // The ASP.NET Core request metrics are checked per real process in LiveClusterMetricsTests: in this test
        // process several hosts publish same-named ASP.NET Core meters, and OpenTelemetry keeps only the first
        // instrument of a name it sees, which may belong to another host.
        var text = await fixture.ScrapeAsync();
        Assert.Contains("# TYPE dotnet_process_memory_working_set_bytes gauge", text);
        Assert.Contains("# TYPE dotnet_gc_pause_time_seconds_total counter", text);
        Assert.Contains("otel_scope_name=\"" + CatalogueEmitter.MeterName + "\"", text);
    }

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
