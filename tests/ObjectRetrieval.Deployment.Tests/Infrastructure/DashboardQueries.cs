using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>One PromQL expression of one dashboard panel.</summary>
public sealed record DashboardQuery(string Dashboard, string Panel, string RefId, string Expression, bool RequiresDcgm)
{
    public override string ToString() => $"{Dashboard} / {Panel} [{RefId}]: {Expression}";
}

/// <summary>Reads the Grafana dashboards' PromQL and turns Grafana's variables into plain PromQL.</summary>
public static partial class DashboardQueries
{
    /// <summary>Marker in a panel description for panels that need the NVIDIA DCGM exporter (empty without GPUs).</summary>
    public const string DcgmMarker = "Requires DCGM";

    public static IReadOnlyList<DashboardQuery> Load(string directory) =>
        Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).SelectMany(LoadFile).ToList();

    public static IEnumerable<DashboardQuery> LoadFile(string path)
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var name = Path.GetFileNameWithoutExtension(path);
        foreach (var panel in Panels(dashboard))
        {
            var title = (string?)panel["title"] ?? "(untitled)";
            var requiresDcgm = ((string?)panel["description"] ?? string.Empty).Contains(DcgmMarker, StringComparison.OrdinalIgnoreCase);
            foreach (var target in panel["targets"]?.AsArray() ?? [])
            {
                if ((string?)target?["expr"] is { Length: > 0 } expr)
                {
                    yield return new DashboardQuery(name, title, (string?)target["refId"] ?? "?", expr, requiresDcgm);
                }
            }
        }
    }

    /// <summary>Every panel, including those nested in collapsed rows.</summary>
    public static IEnumerable<JsonObject> Panels(JsonObject dashboard)
    {
        foreach (var panel in dashboard["panels"]?.AsArray() ?? [])
        {
            if (panel is not JsonObject p)
            {
                continue;
            }

            yield return p;
            foreach (var nested in p["panels"]?.AsArray() ?? [])
            {
                if (nested is JsonObject n)
                {
                    yield return n;
                }
            }
        }
    }

    /// <summary>
    /// Replaces Grafana's built-in interval variables and the dashboards' own variables (all taken as "All",
    /// i.e. the regex ".*"), so that Prometheus can evaluate the expression as it stands.
    /// </summary>
    public static string ToPromQl(string expression, string rateInterval = "1m", string range = "5m")
    {
        var result = expression
            .Replace("$__rate_interval", rateInterval, StringComparison.Ordinal)
            .Replace("${__rate_interval}", rateInterval, StringComparison.Ordinal)
            .Replace("$__interval", rateInterval, StringComparison.Ordinal)
            .Replace("${__interval}", rateInterval, StringComparison.Ordinal)
            .Replace("$__range", range, StringComparison.Ordinal)
            .Replace("${__range}", range, StringComparison.Ordinal);
        return DashboardVariable().Replace(result, ".*");
    }

    /// <summary>Metric names an expression refers to: identifiers left once strings, label matchers, ranges,
    /// grouping clauses and function calls are taken out.</summary>
    public static IReadOnlySet<string> MetricNames(string expression)
    {
        var text = QuotedString().Replace(expression, "\"\"");
        text = LabelMatchers().Replace(text, "{}");
        text = RangeSelector().Replace(text, string.Empty);
        text = GroupingClause().Replace(text, string.Empty);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Identifier().Matches(text))
        {
            if (!PromQlKeywords.Contains(match.Value))
            {
                names.Add(match.Value);
            }
        }

        return names;
    }

    private static readonly HashSet<string> PromQlKeywords = new(StringComparer.Ordinal) { "or", "and", "unless", "bool", "offset" };

    [GeneratedRegex(@"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")]
    private static partial Regex DashboardVariable();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex QuotedString();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeSelector();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex GroupingClause();

    // An identifier that is not a function call and not part of a number.
    [GeneratedRegex(@"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()(?![A-Za-z0-9_:])")]
    private static partial Regex Identifier();
}
