using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Silo;

/// <summary>The model's identity as indexes record it: an index answers only queries embedded by the same model.</summary>
public static class ModelIdentity
{
    public static string Of(ModelPackage package) => $"{package.Name}:{package.Version}";
}

/// <summary>The text tower as the gateway's query embedder.</summary>
public sealed class TextTowerQueryEmbedder(TextEncoder encoder) : IQueryEmbedder, IDisposable
{
    public string Model { get; } = ModelIdentity.Of(encoder.Package);

    public int Dimension => encoder.Dimension;

    public string TemplateSet => encoder.Package.PromptTemplateSetIdentity;

    public async ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken = default) =>
        await encoder.EmbedQueryAsync(query, cancellationToken).ConfigureAwait(false);

    public void Dispose() => encoder.Dispose();
}

/// <summary>
/// The image tower behind the small-volume upsert path. One batching encoder per (aggregation, dense) setting,
/// since the aggregation is part of the pipeline; all share the process-wide ONNX session.
/// </summary>
public sealed class ImageTowerEncoderService(ModelPackage package, ILoggerFactory loggers) : IImageEncoderService, IAsyncDisposable
{
    private readonly ConcurrentDictionary<(AggregationOptions Aggregation, bool Dense), Lazy<ImageEncoder>> _encoders = new();

    public string Model { get; } = ModelIdentity.Of(package);

    public int Dimension => package.EmbeddingDim;

    /// <summary>Counters and stage times summed over this process's encoders.</summary>
    public EncoderStatsSnapshot Statistics()
    {
        EncoderStatsSnapshot[] all = _encoders.Values.Where(e => e.IsValueCreated).Select(e => e.Value.Statistics.Snapshot()).ToArray();
        return new EncoderStatsSnapshot(
            all.Sum(s => s.ImagesEncoded), all.Sum(s => s.ImagesFailed), all.Sum(s => s.Batches), all.Sum(s => s.ViewsInferred),
            all.Sum(s => s.DecodeSeconds), all.Sum(s => s.InferenceSeconds), all.Sum(s => s.AggregationSeconds));
    }

    public async Task<ImageRepresentation> EncodeAsync(
        string imageId, ReadOnlyMemory<byte> bytes, string? sourceUri, AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken = default)
    {
        ImageEncoder encoder = EncoderFor(aggregation, keepDensePatches);
        try
        {
            return await encoder.EncodeAsync(ImageSource.FromBytes(imageId, bytes) with { SourceUri = sourceUri }, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageDecodeException e)
        {
            throw new ArgumentException($"Image '{imageId}' cannot be used ({e.Reason}): {e.Message}", e);
        }
    }

    /// <summary>The process's batching encoder for this aggregation setting (ingest workers share it too).</summary>
    public ImageEncoder EncoderFor(AggregationOptions aggregation, bool keepDensePatches) =>
        _encoders.GetOrAdd((aggregation, keepDensePatches), key => new Lazy<ImageEncoder>(() => ImageEncoder.Create(
            package,
            new ImageEncoderOptions { KeepDensePatches = key.Dense },
            key.Aggregation.CreateAggregator(),
            loggers.CreateLogger<ImageEncoder>()))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (Lazy<ImageEncoder> encoder in _encoders.Values.Where(e => e.IsValueCreated))
        {
            await encoder.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}
