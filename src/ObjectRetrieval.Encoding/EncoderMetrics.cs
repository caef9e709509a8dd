using System.Diagnostics.Metrics;
using ObjectRetrieval.Encoding.Imaging;

namespace ObjectRetrieval.Encoding;

/// <summary>OpenTelemetry-friendly instruments of the encoders (meter "ObjectRetrieval.Encoding").</summary>
public static class EncoderMetrics
{
    public const string MeterName = "ObjectRetrieval.Encoding";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> EncodedImages = Meter.CreateCounter<long>("objret.encoder.images", "{image}", "Images encoded.");
    private static readonly Counter<long> FailedImages = Meter.CreateCounter<long>("objret.encoder.failures", "{image}", "Images refused, by reason.");
    private static readonly Histogram<int> BatchViews = Meter.CreateHistogram<int>(
        "objret.encoder.batch_size", "{view}", "Views per inference call.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });

    internal static void Encoded() => EncodedImages.Add(1);

    internal static void Failed(ImageDecodeFailure reason) => FailedImages.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));

    internal static void Batch(int views) => BatchViews.Record(views);
}
