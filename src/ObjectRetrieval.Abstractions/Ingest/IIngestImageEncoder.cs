using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Abstractions.Ingest;

/// <summary>One downloaded image as ingest hands it to the encoder.</summary>
public sealed record IngestImage(string ImageId, ReadOnlyMemory<byte> Bytes, string SourceUri, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The encoder silo's shared batching image encoder as ingest workers see it: many workers' images meet in
/// one queue. Images that cannot be used throw <see cref="ImageRejectedException"/> with a typed reason.
/// </summary>
public interface IIngestImageEncoder
{
    int Dimension { get; }

    Task<ImageRepresentation> EncodeAsync(IngestImage image, Core.Aggregation.AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken);
}

/// <summary>An image the system cannot use; <see cref="Reason"/> names the kind (Empty, Truncated, Corrupt, UnknownFormat, TooLarge...).</summary>
public sealed class ImageRejectedException(string reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Reason { get; } = reason;
}
