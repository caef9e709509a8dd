using System.Diagnostics.Metrics;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>
/// Declares every metric of deploy/METRICS.md as the catalogue says (name, kind, unit, buckets) in a meter
/// matching "ObjectRetrieval.*", and records one sample per combination of the catalogue's label values.
/// Lets tests check how the exporter names them and how the dashboards read them, before the real code paths exist.
/// </summary>
public sealed class CatalogueEmitter : IDisposable
{
    public const string MeterName = "ObjectRetrieval.CatalogueCheck";

    private readonly Meter _meter = new(MeterName);

    public CatalogueEmitter(MetricCatalogue catalogue)
    {
        foreach (var metric in catalogue.Own)
        {
            var tagSets = TagSets(metric.Labels);
            var description = $"Catalogue check of {metric.InstrumentName}.";
            switch (metric.InstrumentKind)
            {
                case "histogram":
                    var histogram = _meter.CreateHistogram<double>(metric.InstrumentName, metric.Unit, description,
                        advice: metric.Buckets.Count > 0 ? new InstrumentAdvice<double> { HistogramBucketBoundaries = metric.Buckets } : null);
                    foreach (var tags in tagSets)
                    {
                        histogram.Record(metric.Buckets.Count > 0 ? metric.Buckets[metric.Buckets.Count / 2] : 1, tags);
                    }

                    break;
                case "int":
                    var intHistogram = _meter.CreateHistogram<int>(metric.InstrumentName, metric.Unit, description,
                        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = metric.Buckets.Select(b => (int)b).ToArray() });
                    foreach (var tags in tagSets)
                    {
                        intHistogram.Record(8, tags);
                    }

                    break;
                case "counter":
                    var counter = _meter.CreateCounter<long>(metric.InstrumentName, metric.Unit, description);
                    foreach (var tags in tagSets)
                    {
                        counter.Add(3, tags);
                    }

                    break;
                case "UpDownCounter":
                    var upDown = _meter.CreateUpDownCounter<long>(metric.InstrumentName, metric.Unit, description);
                    foreach (var tags in tagSets)
                    {
                        upDown.Add(2, tags);
                    }

                    break;
                case "ObservableGauge":
                    var measurements = tagSets.Select(tags => new Measurement<long>(100, tags)).ToArray();
                    _meter.CreateObservableGauge(metric.InstrumentName, () => measurements, metric.Unit, description);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown instrument kind '{metric.InstrumentKind}' of {metric.ExportedName}.");
            }
        }
    }

    public void Dispose() => _meter.Dispose();

    /// <summary>Cartesian product of enumerated label values; a label without listed values gets one sample value.</summary>
    private static List<KeyValuePair<string, object?>[]> TagSets(IReadOnlyList<CatalogueLabel> labels)
    {
        IEnumerable<KeyValuePair<string, object?>[]> sets = [[]];
        foreach (var label in labels)
        {
            IReadOnlyList<string> values = label.Values.Count > 0 ? label.Values : [label.Name == "shard" ? "0" : "sample"];
            sets = sets.SelectMany(set => values.Select(value => set.Append(new KeyValuePair<string, object?>(label.Name, value)).ToArray()));
        }

        return sets.ToList();
    }
}
