using System.Globalization;
using System.Text;
using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Cli;

/// <summary>Prints the aggregation study: per cell the baselines and every configuration, then each configuration's worst case.</summary>
internal static class StudyTable
{
    public static string Format(StudyReport report)
    {
        var text = new StringBuilder();
        var configurations = report.Summaries.Select(s => s.Configuration).ToList();
        text.AppendLine("mAP@k overall / small objects (%) per cell; vectors per image in the summary");
        foreach (StudyBaseline b in report.Baselines)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{b.Cell}: dense {P(b.DenseMap)} / {P(b.DenseSmallMap)}, global {P(b.GlobalMap)} / {P(b.GlobalSmallMap)}");
            foreach (StudyScore s in report.Scores.Where(s => s.Cell == b.Cell))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {s.Configuration,-22} {P(s.MeanAveragePrecision),6} / {P(s.SmallMeanAveragePrecision),6}   {s.VectorsPerImage,5:F1} vectors");
            }
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"configuration",-22} {"worst small/dense",18} {"worst overall - kmeans",23} {"cells >= kmeans",16} {"vectors/img",12}  worst cells (small | overall)");
        foreach (StudySummary s in report.Summaries)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Configuration,-22} {s.WorstSmallFractionOfDense,18:F3} {100 * s.WorstOverallMinusKMeans,23:+0.0;-0.0;0.0} {$"{s.CellsAtLeastKMeans}/{s.Cells}",16} {s.MeanVectorsPerImage,12:F1}  {s.WorstSmallCell} | {s.WorstOverallCell}");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"chosen by the worst case: {report.Chosen} ({report.ChoiceRule})");
        return text.ToString();
    }

    private static string P(double value) => double.IsNaN(value) ? "n/a" : (100 * value).ToString("F1", CultureInfo.InvariantCulture);
}
