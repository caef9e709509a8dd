using System.Globalization;
using System.Text.RegularExpressions;
using ObjectRetrieval.Deployment.Tests.Infrastructure;
using ObjectRetrieval.ServiceDefaults;
using Xunit.Abstractions;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>A local cluster of real processes (index silo, encoder silo, gateway) that has served an ingest and searches.</summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public MetricCatalogue Catalogue { get; } = MetricCatalogue.Load(RepositoryPaths.MetricCatalogue);

    public async Task InitializeAsync()
    {
        Cluster = await LocalCluster.StartAsync();
        await Cluster.RunScenarioAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    /// <summary>Each process's <c>/metrics</c> text, by component.</summary>
    public async Task<IReadOnlyList<(string Component, string Text)>> ScrapeAllAsync()
    {
        var scrapes = new List<(string, string)>();
        foreach (var process in Cluster.Processes)
        {
            scrapes.Add((process.Component, await Cluster.Http.GetStringAsync(new Uri(process.BaseUrl, ServiceDefaultsExtensions.MetricsPath.TrimStart('/')))));
        }

        return scrapes;
    }
}

/// <summary>
/// The metrics of a running local cluster, as deploy/METRICS.md and the dashboards expect them: every process passes
/// promtool on our metrics, the cluster emits every catalogued metric from its real code paths, and a real Prometheus
/// scraping every process answers every dashboard query (GPU panels, which need the DCGM exporter, excepted).
/// </summary>
public sealed partial class LiveClusterMetricsTests(LocalClusterFixture fixture, ITestOutputHelper output) : IClassFixture<LocalClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Recorded only when a shard misses the search deadline; nothing in the scenario is slow on purpose
    /// (its partial answer comes from a shard that fails). The dashboards read it with <c>or vector(0)</c>.</summary>
    private static readonly string[] RareEventMetrics =
    [
        "objret_search_shard_timeouts_total",
        "objret_shard_seal_duration_seconds",
        "objret_shard_seal_bytes_total",
        "objret_shard_compaction_duration_seconds",
        "objret_shard_compaction_bytes_total",
        "objret_shard_quarantined_total",
        "objret_shard_fencing_rejections_total",
    ];

    [Fact]
    public async Task Every_process_passes_promtool_on_our_metrics()
    {
        foreach (var (component, text) in await fixture.ScrapeAllAsync())
        {
            var result = await PromtoolCheck.Metrics(text);
            Assert.True(result.Parsed, $"{component}: {result.ParseError}");
            var ours = result.ProblemsOf("objret_");
            Assert.True(ours.Count == 0, $"{component}:\n{string.Join("\n", ours)}");
            var families = OwnSeries(text).Select(FamilyOf).Distinct().Order(StringComparer.Ordinal).ToList();
            output.WriteLine($"{component}: promtool parsed it, no problem on objret_*; {result.Problems.Count} findings on other metrics; ours: {string.Join(", ", families)}");
        }
    }

    [Fact]
    public async Task Every_process_serves_aspnetcore_runtime_and_orleans_metrics()
    {
        foreach (var (component, text) in await fixture.ScrapeAllAsync())
        {
            // Every process has answered health probes and scrapes by now, so request durations exist.
            Assert.True(text.Contains("# TYPE http_server_request_duration_seconds histogram", StringComparison.Ordinal), $"{component}: no ASP.NET Core request metrics");
            Assert.True(text.Contains("# TYPE dotnet_process_memory_working_set_bytes gauge", StringComparison.Ordinal), $"{component}: no runtime metrics");
            if (component.EndsWith("silo", StringComparison.Ordinal))
            {
                Assert.True(text.Contains("\norleans_", StringComparison.Ordinal), $"{component}: no Orleans metrics");
            }
        }
    }

    [Fact]
    public async Task The_cluster_emits_every_catalogued_metric_and_no_other_of_ours()
    {
        var scrapes = await fixture.ScrapeAllAsync();
        var exported = scrapes.SelectMany(s => OwnSeries(s.Text)).ToHashSet(StringComparer.Ordinal);
        var missing = fixture.Catalogue.Own
            .Where(m => !RareEventMetrics.Contains(m.ExportedName))
            .Where(m => !exported.Contains(m.PrometheusType == "histogram" ? m.ExportedName + "_bucket" : m.ExportedName))
            .Select(m => m.ExportedName)
            .ToList();
        Assert.True(missing.Count == 0, "Catalogued but not emitted by any process:\n" + string.Join("\n", missing));
        output.WriteLine($"emitted: {fixture.Catalogue.Own.Count - RareEventMetrics.Length} catalogued metrics; not exercised: {string.Join(", ", RareEventMetrics)}");

        var uncatalogued = exported.Except(fixture.Catalogue.QueryableNames()).ToList();
        Assert.True(uncatalogued.Count == 0, "Emitted but not in deploy/METRICS.md:\n" + string.Join("\n", uncatalogued));
    }

    [Fact]
    public async Task Every_dashboard_query_returns_data_from_a_prometheus_scraping_the_cluster()
    {
        await using var prometheus = await PrometheusServer.StartAsync(
            fixture.Cluster.Processes.Select(p => new ScrapeTarget(p.BaseUrl, p.Component)).ToList(), TimeSpan.FromSeconds(1), Deadline);
        await prometheus.WaitForTargetsUpAsync(Deadline);
        await prometheus.WaitForScrapesAsync(3, Deadline);

        var all = DashboardQueries.Load(RepositoryPaths.Grafana);
        var queries = all.Where(q => !q.RequiresDcgm).ToList();
        var failures = await prometheus.FindEmptyQueriesAsync(queries, Deadline);

        foreach (var notes in fixture.Cluster.Notes)
        {
            output.WriteLine(notes);
        }

        output.WriteLine($"{queries.Count} dashboard expressions evaluated through {prometheus.Address}api/v1/query (series returned):");
        foreach (var query in queries)
        {
            var outcome = await prometheus.QueryAsync(DashboardQueries.ToPromQl(query.Expression));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {outcome.SeriesCount,3}  {query}{(outcome.Error is null ? string.Empty : "  ERROR " + outcome.Error)}"));
        }

        foreach (var query in all.Where(q => q.RequiresDcgm))
        {
            output.WriteLine($"  not evaluated ({DashboardQueries.DcgmMarker}: no GPU exporter here): {query}");
        }

        Assert.True(failures.Count == 0, "Empty or refused on a cluster that served an ingest and searches:\n"
            + string.Join("\n", failures.Select(f => $"{f.Query}\n  -> {f.Outcome.Error ?? "no series"}")));
    }

    /// <summary>Names of the objret_* series in a scrape (e.g. objret_search_duration_seconds_bucket).</summary>
    private static IEnumerable<string> OwnSeries(string text) => SampleName().Matches(text).Select(m => m.Groups["name"].Value).Distinct(StringComparer.Ordinal);

    private static string FamilyOf(string series) =>
        series.EndsWith("_bucket", StringComparison.Ordinal) ? series[..^"_bucket".Length]
        : series.EndsWith("_sum", StringComparison.Ordinal) ? series[..^"_sum".Length]
        : series.EndsWith("_count", StringComparison.Ordinal) ? series[..^"_count".Length]
        : series;

    [GeneratedRegex(@"^(?<name>objret_[A-Za-z0-9_:]*)[{ ]", RegexOptions.Multiline)]
    private static partial Regex SampleName();
}
