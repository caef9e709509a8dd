using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Abstractions;

/// <summary>Query text → unit query vector in the model's joint space (the text tower behind the gateway).</summary>
public interface IQueryEmbedder
{
    /// <summary>The model the vectors belong to; an index built with another model cannot be searched with them.</summary>
    string Model { get; }

    int Dimension { get; }

    /// <summary>Names the prompt-template ensemble the vectors are averaged over; the same query gives another vector under another set.</summary>
    string TemplateSet => string.Empty;

    ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken = default);
}

/// <summary>Image bytes → the compact representation an index stores (the image tower and aggregation).</summary>
public interface IImageEncoderService
{
    string Model { get; }

    int Dimension { get; }

    /// <summary>Throws <see cref="ArgumentException"/> (or a subclass) for bytes that are not a usable image.</summary>
    Task<ImageRepresentation> EncodeAsync(string imageId, ReadOnlyMemory<byte> bytes, string? sourceUri, Core.Aggregation.AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken = default);
}
