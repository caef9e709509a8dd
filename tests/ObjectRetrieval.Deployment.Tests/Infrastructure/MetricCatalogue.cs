using System.Globalization;
using System.Text.RegularExpressions;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>A label of a catalogued metric and, when the catalogue enumerates them, its values.</summary>
public sealed record CatalogueLabel(string Name, IReadOnlyList<string> Values);

/// <summary>One of our own metrics as deploy/METRICS.md defines it.</summary>
public sealed record CatalogueMetric(
    string ExportedName,
    string PrometheusType,
    string InstrumentName,
    string InstrumentKind,
    string Unit,
    IReadOnlyList<CatalogueLabel> Labels,
    IReadOnlyList<double> Buckets,
    string Meter);

/// <summary>Reads the metric catalogue (deploy/METRICS.md): our metrics table and the framework metrics table.</summary>
public sealed partial class MetricCatalogue
{
    private MetricCatalogue(IReadOnlyList<CatalogueMetric> own, IReadOnlyList<string> framework)
    {
        Own = own;
        Framework = framework;
    }

    public IReadOnlyList<CatalogueMetric> Own { get; }

    /// <summary>Exported names of ASP.NET Core, runtime, Orleans, Prometheus and DCGM metrics the dashboards may use.</summary>
    public IReadOnlyList<string> Framework { get; }

    public static MetricCatalogue Load(string path)
    {
        var own = new List<CatalogueMetric>();
        var framework = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }

            var cells = SplitRow(line);
            if (cells.Count == 9)
            {
                own.Add(ParseOwn(cells));
            }
            else if (cells.Count == 5)
            {
                framework.Add(Unquote(cells[0]));
            }
            else
            {
                throw new FormatException($"Unexpected catalogue row ({cells.Count} cells): {line}");
            }
        }

        return new MetricCatalogue(own, framework);
    }

    /// <summary>Names a dashboard may query: our histograms' _bucket/_sum/_count series, our other metrics, and the framework's.</summary>
    public IReadOnlySet<string> QueryableNames()
    {
        var names = new HashSet<string>(Framework, StringComparer.Ordinal);
        foreach (var metric in Own)
        {
            if (metric.PrometheusType == "histogram")
            {
                names.UnionWith([metric.ExportedName + "_bucket", metric.ExportedName + "_sum", metric.ExportedName + "_count"]);
            }
            else
            {
                names.Add(metric.ExportedName);
            }
        }

        foreach (var name in Framework)
        {
            names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
        }

        return names;
    }

    private static CatalogueMetric ParseOwn(IReadOnlyList<string> cells)
    {
        var instrument = InstrumentCell().Match(cells[2]);
        if (!instrument.Success)
        {
            throw new FormatException($"Instrument cell not understood: {cells[2]}");
        }

        var labels = cells[4].Length == 0
            ? []
            : LabelCell().Matches(cells[4]).Select(m => new CatalogueLabel(
                m.Groups["name"].Value,
                m.Groups["values"].Success && !m.Groups["values"].Value.Contains(' ')
                    ? m.Groups["values"].Value.Split('|')
                    : [])).ToList();
        var buckets = cells[5].Length == 0
            ? []
            : cells[5].Split(',', StringSplitOptions.TrimEntries).Select(b => double.Parse(b, CultureInfo.InvariantCulture)).ToList();
        var kind = instrument.Groups["kind"].Success ? instrument.Groups["kind"].Value : cells[1];
        return new CatalogueMetric(Unquote(cells[0]), cells[1], instrument.Groups["name"].Value, kind, Unquote(cells[3]), labels, buckets, Unquote(cells[6]));
    }

    private static List<string> SplitRow(string line)
    {
        // Cells are separated by '|' except where it is escaped as '\|' (alternatives inside a cell).
        var cells = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 1; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] == '|')
            {
                current.Append('|');
                i++;
            }
            else if (line[i] == '|')
            {
                cells.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(line[i]);
            }
        }

        return cells;
    }

    private static string Unquote(string cell) => cell.Trim().Trim('`');

    [GeneratedRegex(@"^`(?<name>[^`]+)`(?:\s*\((?<kind>[A-Za-z]+)\))?")]
    private static partial Regex InstrumentCell();

    [GeneratedRegex(@"`(?<name>[a-z_]+)`(?:\s*\((?<values>[^)]*)\))?")]
    private static partial Regex LabelCell();
}
