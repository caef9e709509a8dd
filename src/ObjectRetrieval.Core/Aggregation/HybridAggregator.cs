using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// Hybrid: K₁ spherical k-means centroids summarise the large regions, then K₂ = K − K₁ farthest-first
/// outliers are chosen against them, so that what k-means averaged away (a lone patch) is kept as well.
/// </summary>
public sealed class HybridAggregator : IAggregator
{
    private readonly AggregationOptions _options;
    private readonly SphericalKMeans _kmeans;
    private readonly SphericalKMeans _everyPatch;

    public HybridAggregator(AggregationOptions options)
    {
        options.Validate();
        _options = options;
        int kmeansClusters = Math.Max(1, (int)Math.Round(options.Clusters * options.HybridKMeansShare));
        _kmeans = new SphericalKMeans(options with { Clusters = kmeansClusters });
        _everyPatch = new SphericalKMeans(options);
    }

    public string Name => "hybrid";

    public AggregatedImage Aggregate(string imageId, DenseEmbeddings normalizedPatches)
    {
        int p = normalizedPatches.PatchCount;
        int d = normalizedPatches.Dimension;
        ReadOnlySpan<float> patches = normalizedPatches.Patches;
        // With room for every patch there is nothing to summarise: k-means with K ≥ P keeps each distinct patch.
        if (_options.Clusters >= p) return _everyPatch.Aggregate(imageId, normalizedPatches);

        AggregatedImage regions = _kmeans.Aggregate(imageId, normalizedPatches);
        int outliers = Math.Min(_options.Clusters, p) - regions.Count;
        if (outliers <= 0) return regions;

        float[] vectors = new float[(regions.Count + outliers) * d];
        regions.Vectors.AsSpan(0, regions.Count * d).CopyTo(vectors);
        bool[]? eligible = PatchAssignment.Eligible(normalizedPatches, _options);
        List<int> seeds = FarthestFirst.Select(patches, p, d, vectors, regions.Count, outliers, firstPatch: -1, eligible);
        int k = regions.Count + seeds.Count;
        if (_options.RefineThreshold is { } threshold) FarthestFirst.Refine(patches, p, d, vectors, k, regions.Count, seeds, threshold);
        return PatchAssignment.Finish(patches, p, d, vectors, k);
    }
}
