using System.Text.RegularExpressions;
using ObjectRetrieval.Deployment.Tests.Infrastructure;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>The chart's templates and values.yaml agree, and every value is documented.</summary>
public sealed partial class ChartValuesTests
{
    private static readonly IReadOnlyDictionary<string, ValuesKey> Values = ValuesFile.Load(Path.Combine(RepositoryPaths.Chart, "values.yaml"));

    private static IReadOnlySet<string> UsedPaths()
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Chart, "templates")))
        {
            foreach (Match match in ValuesReference().Matches(File.ReadAllText(file)))
            {
                used.Add(match.Groups["path"].Value[1..]);
            }
        }

        return used;
    }

    [Fact]
    public void Every_values_path_used_in_the_templates_exists_in_values_yaml()
    {
        var used = UsedPaths();
        Assert.NotEmpty(used);
        var missing = used.Where(path => !Values.ContainsKey(path)).ToList();
        Assert.True(missing.Count == 0, "Used in templates but absent from values.yaml: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_values_path_used_in_the_templates_is_documented()
    {
        var undocumented = UsedPaths().Where(Values.ContainsKey).Where(path => !IsDocumented(path)).ToList();
        Assert.True(undocumented.Count == 0, "Used but without a comment above it (or above a documented parent): " + string.Join(", ", undocumented));
    }

    [Fact]
    public void Every_setting_in_values_yaml_is_documented_and_used()
    {
        var used = UsedPaths();
        var leaves = Values.Values.Where(k => !k.IsMapping || !Values.Keys.Any(other => other.StartsWith(k.Path + ".", StringComparison.Ordinal))).ToList();
        Assert.NotEmpty(leaves);

        var undocumented = leaves.Where(k => !IsDocumented(k.Path)).Select(k => k.Path).ToList();
        Assert.True(undocumented.Count == 0, "Settings without a comment: " + string.Join(", ", undocumented));

        // A setting is used when a template reads it or a parent passed through whole (toYaml, merge).
        var unused = leaves.Where(k => !used.Any(u => k.Path == u || k.Path.StartsWith(u + ".", StringComparison.Ordinal))).Select(k => k.Path).ToList();
        Assert.True(unused.Count == 0, "Settings no template reads: " + string.Join(", ", unused));
    }

    [Fact]
    public void Encoder_gpu_block_reaches_limits_node_selector_and_tolerations()
    {
        var template = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "templates", "encoder-silo.yaml"));
        Assert.Contains("$gpu.resourceName $gpu.count", template, StringComparison.Ordinal);
        Assert.Contains("$gpu.nodeSelector", template, StringComparison.Ordinal);
        Assert.Contains("$gpu.tolerations", template, StringComparison.Ordinal);
        Assert.True(Values.ContainsKey("encoderSilo.gpu.resourceName"));
    }

    [Fact]
    public void Dashboards_are_packaged_as_configmaps_labelled_for_the_grafana_sidecar()
    {
        var template = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "templates", "dashboards.yaml"));
        Assert.Contains(".Files.Glob \"dashboards/*.json\"", template, StringComparison.Ordinal);
        var values = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "values.yaml"));
        Assert.Contains("grafana_dashboard: \"1\"", values, StringComparison.Ordinal);
    }

    // A key counts as documented when it, or a parent that templates use whole, has a comment directly above it.
    private static bool IsDocumented(string path)
    {
        for (var current = path; current.Length > 0; current = current.Contains('.') ? current[..current.LastIndexOf('.')] : string.Empty)
        {
            if (Values.TryGetValue(current, out var key) && key.HasComment)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex(@"\.Values(?<path>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesReference();
}
