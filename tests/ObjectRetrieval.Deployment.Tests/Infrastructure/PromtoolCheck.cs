namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>One complaint of <c>promtool check metrics</c>: the metric family and what is wrong with it.</summary>
public sealed record PromtoolProblem(string Metric, string Message)
{
    public override string ToString() => $"{Metric}: {Message}";
}

/// <summary>
/// Result of linting scraped metrics text. promtool exits 1 when the text does not parse and 3 when it
/// parses but has lint problems (one "name message" line per problem on stdout).
/// </summary>
public sealed record PromtoolResult(int ExitCode, string? ParseError, IReadOnlyList<PromtoolProblem> Problems)
{
    public bool Parsed => ParseError is null;

    /// <summary>Problems of the metric families whose names start with one of the prefixes (e.g. our own "objret_").</summary>
    public IReadOnlyList<PromtoolProblem> ProblemsOf(params string[] prefixes) =>
        Problems.Where(p => prefixes.Any(prefix => p.Metric.StartsWith(prefix, StringComparison.Ordinal))).ToList();
}

/// <summary>Runs <c>promtool check metrics</c> (Debian package prometheus) on Prometheus text-format metrics.</summary>
public static class PromtoolCheck
{
    public static async Task<PromtoolResult> Metrics(string text)
    {
        var promtool = ExternalTool.Require("promtool");
        var (exitCode, stdout, stderr) = await ExternalTool.RunAsync(promtool, ["check", "metrics"], text, TimeSpan.FromSeconds(60));
        return Interpret(exitCode, stdout, stderr);
    }

    internal static PromtoolResult Interpret(int exitCode, string stdout, string stderr)
    {
        var output = stdout + "\n" + stderr;
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parseError = lines.FirstOrDefault(l => l.StartsWith("error while linting", StringComparison.Ordinal));
        if (parseError is null && exitCode is not (0 or 3))
        {
            parseError = $"promtool exited with {exitCode}: {output.Trim()}";
        }

        var problems = lines
            .Where(l => !l.StartsWith("error while linting", StringComparison.Ordinal))
            .Select(l => l.Split(' ', 2))
            .Where(parts => parts.Length == 2)
            .Select(parts => new PromtoolProblem(parts[0], parts[1]))
            .ToList();
        return new PromtoolResult(exitCode, parseError, problems);
    }
}
