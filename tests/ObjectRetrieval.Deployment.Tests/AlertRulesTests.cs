using ObjectRetrieval.Deployment.Tests.Infrastructure;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>The chart's alert rules parse, fire on the series they are about, and query only catalogued metrics.</summary>
public sealed class AlertRulesTests
{
    private static readonly string Alerts = Path.Combine(RepositoryPaths.Chart, "alerts");

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        (int exitCode, string stdout, string stderr) = await ExternalTool.RunAsync(ExternalTool.Require("promtool"), arguments, string.Empty, TimeSpan.FromMinutes(1));
        return (exitCode, stdout + stderr);
    }

    [Fact]
    public async Task Promtool_check_rules_accepts_the_shard_alerts()
    {
        (int exitCode, string output) = await PromtoolAsync("check", "rules", Path.Combine(Alerts, "shards.rules.yaml"));
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS: 6 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promtool_test_rules_fires_each_tested_alert_on_its_series()
    {
        (int exitCode, string output) = await PromtoolAsync("test", "rules", Path.Combine(Alerts, "shards.rules.test.yaml"));
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public void Every_metric_an_alert_queries_is_in_the_catalogue()
    {
        MetricCatalogue catalogue = MetricCatalogue.Load(RepositoryPaths.MetricCatalogue);
        IReadOnlySet<string> known = catalogue.QueryableNames();
        string rules = File.ReadAllText(Path.Combine(Alerts, "shards.rules.yaml"));
        var used = System.Text.RegularExpressions.Regex.Matches(rules, @"\bobjret_[a-z0-9_]+").Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.Contains(name, known));
    }

    [Fact]
    public void The_chart_wraps_the_rules_in_a_prometheus_rule_behind_a_documented_toggle()
    {
        string template = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "templates", "prometheusrule.yaml"));
        Assert.Contains("kind: PrometheusRule", template, StringComparison.Ordinal);
        Assert.Contains(".Files.Get \"alerts/shards.rules.yaml\"", template, StringComparison.Ordinal);
        Assert.Contains(".Values.metrics.prometheusRule.enabled", template, StringComparison.Ordinal);
    }
}
