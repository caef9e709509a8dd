using ObjectRetrieval.Deployment.Tests.Infrastructure;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>
/// A real Prometheus evaluates the dashboards. Without the cluster, the process that scrapes is the catalogue
/// emitter: every query of our own metrics must then return data (same names, labels and label values as the
/// catalogue), and every query must at least parse. The same harness runs the full check against a local cluster.
/// </summary>
[Collection(ServiceHostCollection.Name)]
public sealed class DashboardPrometheusTests(CatalogueHostFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_dashboard_query_parses_and_those_on_our_metrics_return_data()
    {
        await using var prometheus = await PrometheusServer.StartAsync(
            [new ScrapeTarget(fixture.Host.BaseUrl, "gateway")], TimeSpan.FromSeconds(1), Deadline);
        await prometheus.WaitForTargetsUpAsync(Deadline);
        await prometheus.WaitForScrapesAsync(3, Deadline);

        var queries = DashboardQueries.Load(RepositoryPaths.Grafana);
        var failures = await prometheus.FindEmptyQueriesAsync(queries, TimeSpan.FromSeconds(5));

        var parseErrors = failures.Where(f => f.Outcome.Error is not null).Select(f => $"{f.Query}\n  -> {f.Outcome.Error}").ToList();
        Assert.True(parseErrors.Count == 0, "Prometheus refused:\n" + string.Join("\n", parseErrors));

        var emptyOnOurMetrics = failures
            .Where(f => DashboardQueries.MetricNames(f.Query.Expression).All(n => n.StartsWith("objret_", StringComparison.Ordinal)))
            .Select(f => f.Query.ToString())
            .ToList();
        Assert.True(emptyOnOurMetrics.Count == 0, "Empty although every catalogued metric is emitted:\n" + string.Join("\n", emptyOnOurMetrics));
    }
}
