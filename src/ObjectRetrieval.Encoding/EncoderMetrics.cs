using System.Diagnostics.Metrics;
using ObjectRetrieval.Encoding.Imaging;

namespace ObjectRetrieval.Encoding;

/// <summary>OpenTelemetry-friendly instruments of the encoders (meter "ObjectRetrieval.Encoding"), as deploy/METRICS.md lists them.</summary>
public static class EncoderMetrics
{
    public const string MeterName = "ObjectRetrieval.Encoding";

    /// <summary>Values of the <c>tower</c> label.</summary>
    public static class Towers
    {
        public const string Image = "image";
        public const string Text = "text";
    }

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> EncodedImages = Meter.CreateCounter<long>("objret.encoder.images", "{image}", "Images encoded.");
    private static readonly Counter<long> FailedImages = Meter.CreateCounter<long>("objret.encoder.failures", "{image}", "Images refused, by reason.");
    private static readonly Histogram<int> BatchViews = Meter.CreateHistogram<int>(
        "objret.encoder.batch_size", "{view}", "Views per inference call.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });

    private static readonly UpDownCounter<long> QueueDepth = Meter.CreateUpDownCounter<long>(
        "objret.encoder.queue.depth", "{item}", "Requests waiting for the encoder in this process: images before a decode worker takes them, queries before a thread runs the text tower.");

    private static readonly Histogram<double> InferenceDuration = Meter.CreateHistogram<double>(
        "objret.encoder.inference.duration",
        "s",
        "One ONNX Runtime Run call (one batch), by tower and execution provider.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static readonly KeyValuePair<string, object?>[] ImageTower = [new("tower", Towers.Image)];
    private static readonly KeyValuePair<string, object?>[] TextTower = [new("tower", Towers.Text)];

    internal static void Encoded() => EncodedImages.Add(1);

    internal static void Failed(ImageDecodeFailure reason) => FailedImages.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));

    internal static void Batch(int views) => BatchViews.Record(views);

    /// <summary>A request joined (+1) or left (-1) the queue of <paramref name="tower"/>.</summary>
    internal static void Queue(string tower, int change) => QueueDepth.Add(change, tower == Towers.Text ? TextTower : ImageTower);

    /// <summary>Tags of one tower's inference measurements; <paramref name="provider"/> as the session reports it ("CUDA", "CPU").</summary>
    internal static KeyValuePair<string, object?>[] InferenceTags(string tower, string provider) =>
        [new("tower", tower), new("provider", provider.ToLowerInvariant())];

    internal static void Inference(TimeSpan elapsed, KeyValuePair<string, object?>[] tags) => InferenceDuration.Record(elapsed.TotalSeconds, tags);
}
