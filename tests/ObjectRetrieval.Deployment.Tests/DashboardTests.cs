using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ObjectRetrieval.Deployment.Tests.Infrastructure;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>The Grafana dashboards are well-formed, consistent with the metric catalogue, and the chart ships them unchanged.</summary>
public sealed partial class DashboardTests
{
    private static readonly string[] DashboardFiles = Directory.GetFiles(RepositoryPaths.Grafana, "*.json").Order(StringComparer.Ordinal).ToArray();

    private static JsonObject Read(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public void The_four_dashboards_exist()
    {
        Assert.Equal(["cluster.json", "index.json", "ingest.json", "search.json"], DashboardFiles.Select(Path.GetFileName));
    }

    [Fact]
    public void Uids_are_fixed_and_unique()
    {
        var uids = DashboardFiles.Select(f => (string?)Read(f)["uid"]).ToList();
        Assert.All(uids, uid => Assert.Matches(FixedUid(), uid ?? string.Empty));
        Assert.Equal(uids.Count, uids.Distinct().Count());
    }

    [Fact]
    public void Every_dashboard_has_a_prometheus_datasource_variable_that_every_panel_uses()
    {
        foreach (var file in DashboardFiles)
        {
            var dashboard = Read(file);
            var variables = dashboard["templating"]?["list"]?.AsArray() ?? [];
            Assert.Contains(variables, v => (string?)v?["type"] == "datasource" && (string?)v?["query"] == "prometheus" && (string?)v?["name"] == "datasource");
            foreach (var panel in DashboardQueries.Panels(dashboard).Where(p => (string?)p["type"] != "row"))
            {
                Assert.Equal("${datasource}", (string?)panel["datasource"]?["uid"]);
                Assert.All(panel["targets"]?.AsArray() ?? [], t => Assert.Equal("${datasource}", (string?)t?["datasource"]?["uid"]));
            }
        }
    }

    [Fact]
    public void Every_panel_has_a_unit_a_description_and_at_least_one_query()
    {
        foreach (var file in DashboardFiles)
        {
            foreach (var panel in DashboardQueries.Panels(Read(file)).Where(p => (string?)p["type"] != "row"))
            {
                var title = $"{Path.GetFileName(file)} / {panel["title"]}";
                Assert.False(string.IsNullOrWhiteSpace((string?)panel["fieldConfig"]?["defaults"]?["unit"]), $"{title}: no unit");
                Assert.False(string.IsNullOrWhiteSpace((string?)panel["description"]), $"{title}: no description");
                Assert.NotEmpty(panel["targets"]?.AsArray() ?? []);
            }
        }
    }

    [Fact]
    public void Panel_ids_are_unique_within_a_dashboard()
    {
        foreach (var file in DashboardFiles)
        {
            var ids = DashboardQueries.Panels(Read(file)).Select(p => (int?)p["id"]).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
        }
    }

    [Fact]
    public void Every_metric_a_dashboard_queries_is_in_the_catalogue()
    {
        var known = MetricCatalogue.Load(RepositoryPaths.MetricCatalogue).QueryableNames();
        var unknown = DashboardQueries.Load(RepositoryPaths.Grafana)
            .SelectMany(q => DashboardQueries.MetricNames(q.Expression).Select(name => (q, name)))
            .Where(x => !known.Contains(x.name))
            .Select(x => $"{x.name} in {x.q}")
            .ToList();
        Assert.True(unknown.Count == 0, "Not in deploy/METRICS.md:\n" + string.Join("\n", unknown));
    }

    [Fact]
    public void Latency_quantiles_come_from_bucket_rates_over_the_rate_interval()
    {
        var quantiles = DashboardQueries.Load(RepositoryPaths.Grafana).Where(q => q.Expression.Contains("histogram_quantile", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(quantiles);
        Assert.All(quantiles, q => Assert.Matches(BucketRate(), q.Expression));
        Assert.All(DashboardQueries.Load(RepositoryPaths.Grafana).Where(q => q.Expression.Contains("rate(", StringComparison.Ordinal)),
            q => Assert.DoesNotMatch(FixedRateWindow(), q.Expression));
    }

    [Fact]
    public void Gpu_panels_and_only_they_are_marked_as_requiring_dcgm()
    {
        var queries = DashboardQueries.Load(RepositoryPaths.Grafana);
        Assert.Contains(queries, q => q.RequiresDcgm);
        Assert.All(queries, q => Assert.Equal(q.Expression.Contains("DCGM_", StringComparison.Ordinal), q.RequiresDcgm));
    }

    [Fact]
    public void The_chart_ships_byte_identical_copies_of_the_dashboards()
    {
        var chartFiles = Directory.GetFiles(RepositoryPaths.ChartDashboards, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(DashboardFiles.Select(Path.GetFileName), chartFiles);
        foreach (var file in DashboardFiles)
        {
            var copy = Path.Combine(RepositoryPaths.ChartDashboards, Path.GetFileName(file));
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(copy)),
                $"{copy} differs from {file}: deploy/grafana is the source; copy it into the chart.");
        }
    }

    [Fact]
    public void Grafana_variables_become_plain_promql()
    {
        var promql = DashboardQueries.ToPromQl("histogram_quantile(0.5, sum by (le) (rate(x_bucket{index=~\"$index\"}[$__rate_interval]))) / increase(y[$__range]) / z{a=~\"${index}\"}", "30s", "1h");
        Assert.Equal("histogram_quantile(0.5, sum by (le) (rate(x_bucket{index=~\".*\"}[30s]))) / increase(y[1h]) / z{a=~\".*\"}", promql);
    }

    [Fact]
    public void Metric_names_are_found_in_expressions()
    {
        var names = DashboardQueries.MetricNames(
            "(sum(rate(a_total{outcome=\"error\"}[$__rate_interval])) or vector(0)) / sum by (index, shard) (b_count) + histogram_quantile(0.9, sum by (le) (rate(c_bucket[1m]))) + max(up{component=~\"x|y\"})");
        Assert.Equal(["a_total", "b_count", "c_bucket", "up"], names.Order(StringComparer.Ordinal));
    }

    [GeneratedRegex("^objret-[a-z]+$")]
    private static partial Regex FixedUid();

    [GeneratedRegex(@"histogram_quantile\(0\.\d+, sum by \([^)]*\ble\b[^)]*\) \(rate\([A-Za-z_:]+_bucket(\{[^}]*\})?\[\$__rate_interval\]\)\)\)")]
    private static partial Regex BucketRate();

    [GeneratedRegex(@"rate\([^\[]*\[\d+[smh]\]")]
    private static partial Regex FixedRateWindow();
}
