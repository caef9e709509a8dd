using ObjectRetrieval.Deployment.Tests.Infrastructure;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>The promtool helper tells parse errors from lint problems, with the real promtool.</summary>
public sealed class PromtoolCheckTests
{
    [Fact]
    public async Task Clean_metrics_pass()
    {
        var result = await PromtoolCheck.Metrics("# HELP objret_things_total Things.\n# TYPE objret_things_total counter\nobjret_things_total 1\n");
        Assert.True(result.Parsed);
        Assert.Empty(result.Problems);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Lint_problems_are_listed_per_metric()
    {
        var result = await PromtoolCheck.Metrics("# TYPE objret_latency_milliseconds gauge\nobjret_latency_milliseconds 1\n# HELP other_total x\n# TYPE other_total counter\nother_total 1\n");
        Assert.True(result.Parsed);
        Assert.Contains(result.Problems, p => p.Metric == "objret_latency_milliseconds" && p.Message.Contains("help", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(result.ProblemsOf("objret_"), p => p.Message.Contains("seconds", StringComparison.Ordinal));
        Assert.Empty(result.ProblemsOf("other_"));
    }

    [Fact]
    public async Task Unparsable_text_is_a_parse_error()
    {
        var result = await PromtoolCheck.Metrics("objret_broken{a=\"b\" 1\n");
        Assert.False(result.Parsed);
        Assert.Contains("parsing error", result.ParseError);
    }
}
