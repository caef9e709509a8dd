using System.Globalization;
using System.Text;
using System.Text.Json;
using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Cli;

/// <summary>Prints an evaluation report as a table and writes its machine-readable copy.</summary>
internal static class EvaluationTable
{
    public static string Format(IReadOnlyList<EvaluationReport> reports)
    {
        var text = new StringBuilder();
        EvaluationReport first = reports[0];
        int k = first.Modes.Count > 0 ? first.Modes[0].K : 0;
        text.AppendLine(CultureInfo.InvariantCulture, $"{first.Images} images, mAP@{k}; small = images whose instances of the query are all < 32x32 px");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"aggregation",-12} {"K",3} {"mode",-8} {"mAP",7} {"mAP small",10} {"queries",8} {"index B/img",12} {"agg ms/img",11} {"vectors/img",12}");
        foreach (EvaluationReport report in reports)
        {
            foreach (ModeScore m in report.Modes)
            {
                bool aggregated = m.Mode == "cluster";
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{(aggregated ? report.Aggregation : "-"),-12} {(aggregated ? report.Clusters.ToString(CultureInfo.InvariantCulture) : "-"),3} {m.Mode,-8} {Percent(m.MeanAveragePrecision),7} {Percent(m.SmallMeanAveragePrecision),10} {$"{m.Queries}/{m.SmallQueries}",8} {m.IndexBytesPerImage,12:F0} {(aggregated && double.IsFinite(report.AggregationMillisecondsPerImage) ? report.AggregationMillisecondsPerImage.ToString("F3", CultureInfo.InvariantCulture) : "-"),11} {(aggregated && double.IsFinite(report.VectorsPerImage) ? report.VectorsPerImage.ToString("F1", CultureInfo.InvariantCulture) : "-"),12}");
            }
        }

        return text.ToString();
    }

    private static string Percent(double value) => double.IsNaN(value) ? "n/a" : (100 * value).ToString("F1", CultureInfo.InvariantCulture);

    public static void WriteJson(string path, object report)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }));
    }
}
