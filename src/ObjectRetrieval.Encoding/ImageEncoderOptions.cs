using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Inference;

namespace ObjectRetrieval.Encoding;

/// <summary>Settings of an <see cref="ImageEncoder"/>'s pipeline.</summary>
public sealed record ImageEncoderOptions
{
    /// <summary>Most views (images plus their tiles) in one inference call.</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>How long a partial batch waits for more requests before it runs anyway.</summary>
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Parallel decode workers; on small machines one leaves a core to inference.</summary>
    public int DecodeWorkers { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Parallel aggregation workers.</summary>
    public int AggregationWorkers { get; init; } = 1;

    /// <summary>Requests admitted before callers wait (backpressure).</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>Model input side; null uses the package's imageSize. Must be a multiple of the patch size.</summary>
    public int? ImageSize { get; init; }

    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    /// <summary>The whole image by default: a wide or tall image is covered by overlapping squares, not centre-cropped.</summary>
    public ImageCoverage Coverage { get; init; } = ImageCoverage.WholeImage;

    /// <summary>Adds overlapping tiles to each image when set.</summary>
    public TilingOptions? Tiling { get; init; }

    /// <summary>Keeps every patch vector in the representation (the dense reference mode of evaluation).</summary>
    public bool KeepDensePatches { get; init; }

    public InferenceOptions Inference { get; init; } = new();

    internal void Validate()
    {
        if (MaxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "Must be at least 1.");
        if (MaxBatchWait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxBatchWait), MaxBatchWait, "Must not be negative.");
        if (DecodeWorkers < 1) throw new ArgumentOutOfRangeException(nameof(DecodeWorkers), DecodeWorkers, "Must be at least 1.");
        if (AggregationWorkers < 1) throw new ArgumentOutOfRangeException(nameof(AggregationWorkers), AggregationWorkers, "Must be at least 1.");
        if (QueueCapacity < 1) throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "Must be at least 1.");
        Tiling?.Validate();
        if (!Enum.IsDefined(Coverage)) throw new ArgumentOutOfRangeException(nameof(Coverage), Coverage, "Unknown coverage.");
    }
}

/// <summary>The outcome for one image of a streaming encode: a representation, or why the image was refused.</summary>
public sealed record EncodeResult(string ImageId, Core.Representation.ImageRepresentation? Representation, ImageDecodeException? Error)
{
    public bool Succeeded => Representation is not null;
}
