using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Representation;

/// <summary>
/// The compact form of one image as the index stores it: the global embedding, the aggregated
/// vectors (centroids), how many patches each stands for, and the patch → vector map on the
/// patch grid, which explains where in the image a match lies. <see cref="DensePatches"/> is
/// kept only for evaluation of the all-patch reference mode.
/// </summary>
public sealed record ImageRepresentation
{
    public required string ImageId { get; init; }

    public required int Dimension { get; init; }

    /// <summary>Unit-length global embedding (Dimension values).</summary>
    public required float[] Global { get; init; }

    /// <summary>Unit-length aggregated vectors, row-major CentroidCount × Dimension.</summary>
    public required float[] Centroids { get; init; }

    public required int CentroidCount { get; init; }

    /// <summary>Patches per centroid.</summary>
    public required int[] ClusterSizes { get; init; }

    /// <summary>Centroid index per patch (row-major over the grid, then any tile patches).</summary>
    public required byte[] Assignment { get; init; }

    public required int GridWidth { get; init; }

    public required int GridHeight { get; init; }

    /// <summary>Where the image came from (blob URI or path), when known.</summary>
    public string? SourceUri { get; init; }

    /// <summary>Free-form key/value pairs (e.g. width, height, etag).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>All unit-length patch vectors (PatchCount × Dimension) for the dense reference mode; null in production indexes.</summary>
    public float[]? DensePatches { get; init; }

    public int PatchCount => Assignment.Length;

    public ReadOnlySpan<float> Centroid(int index) => Centroids.AsSpan(index * Dimension, Dimension);

    /// <summary>Builds the representation from normalised patches and their aggregation.</summary>
    public static ImageRepresentation From(
        string imageId,
        DenseEmbeddings normalized,
        AggregatedImage aggregated,
        bool keepDensePatches = false,
        string? sourceUri = null,
        IReadOnlyDictionary<string, string>? metadata = null) => new()
        {
            ImageId = imageId,
            Dimension = normalized.Dimension,
            Global = normalized.Global,
            Centroids = aggregated.Vectors,
            CentroidCount = aggregated.Count,
            ClusterSizes = aggregated.Sizes,
            Assignment = aggregated.Assignment,
            GridWidth = normalized.GridWidth,
            GridHeight = normalized.GridHeight,
            SourceUri = sourceUri,
            Metadata = metadata ?? new Dictionary<string, string>(),
            DensePatches = keepDensePatches ? normalized.Patches : null,
        };
}
