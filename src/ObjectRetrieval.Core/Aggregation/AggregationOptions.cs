namespace ObjectRetrieval.Core.Aggregation;

/// <summary>How an image's patches become its few vectors.</summary>
public enum AggregationStrategy
{
    /// <summary>Spherical k-means: the paper's method, minimises average distortion.</summary>
    KMeans,

    /// <summary>Greedy farthest-first selection of patch vectors: covers every distinctive region, however small.</summary>
    KCenter,

    /// <summary>k-means centroids for the large regions plus farthest-first outliers chosen against them.</summary>
    Hybrid,

    /// <summary>
    /// Noise-robust covering: patches smoothed by their agreeing neighbours, k-means for the regions, and as many
    /// covering slots as there are patches whose misfit stands out from the noise (never more than a share of K).
    /// </summary>
    Cover,
}

/// <summary>Settings of every aggregation strategy; part of an index definition.</summary>
public sealed record AggregationOptions
{
    /// <summary>Hybrid by default: chosen by the worst case of the README's aggregation study (synthetic grid and demo scenes).</summary>
    public AggregationStrategy Strategy { get; init; } = AggregationStrategy.Hybrid;

    /// <summary>Wanted number of vectors K per image (1–255: the assignment map spends one byte per patch).</summary>
    public int Clusters { get; init; } = 16;

    /// <summary>Upper bound on Lloyd iterations after seeding (k-means and the k-means half of hybrid).</summary>
    public int MaxIterations { get; init; } = 10;

    /// <summary>k-means stops when the mean patch–centroid cosine improves by less than this.</summary>
    public float Tolerance { get; init; } = 1e-4f;

    /// <summary>Mixed into the per-image seed, so different experiments can draw different seeds.</summary>
    public ulong Seed { get; init; }

    /// <summary>Hybrid: share of K spent on k-means centroids; the rest are farthest-first outliers.</summary>
    public double HybridKMeansShare { get; init; } = 0.5;

    /// <summary>
    /// k-center and hybrid outliers: a selected patch moves to the mean of its members whose cosine to it is at
    /// least this (denoising), so a lone patch stays itself. Null keeps the raw selected patches.
    /// </summary>
    public float? RefineThreshold { get; init; } = 0.8f;

    /// <summary>
    /// Variable K: after aggregation, vectors whose cosine is at least this merge (size-weighted), so plain images
    /// store fewer than K vectors. Null keeps every vector. 0.95 by default: the study's worst case barely moves
    /// (demo scenes 86.9 → 86.6 small-object mAP) while images keep about three quarters of K.
    /// </summary>
    public float? MergeThreshold { get; init; } = DefaultMergeThreshold;

    public const float DefaultMergeThreshold = 0.95f;

    /// <summary>Cover: a patch's misfit counts as evidence above median + this × (1.4826 × MAD) of all misfits.</summary>
    public double CoverEvidenceDeviations { get; init; } = 3;

    /// <summary>Cover: the most of K that covering slots may take; unused slots go back to the region k-means.</summary>
    public double CoverMaxShare { get; init; } = 0.5;

    /// <summary>Exclude patches with anomalously large pre-normalisation norms (ViT artefact tokens) from selection.</summary>
    public bool ExcludeNormOutliers { get; init; }

    /// <summary>A norm counts as anomalous above median + this × (1.4826 × median absolute deviation).</summary>
    public double NormOutlierDeviations { get; init; } = 6;

    public static AggregationStrategy ParseStrategy(string text) =>
        Enum.TryParse(text, ignoreCase: true, out AggregationStrategy strategy) && Enum.IsDefined(strategy)
            ? strategy
            : throw new ArgumentException($"Unknown aggregation '{text}'; use kmeans, kcenter, hybrid or cover.");

    public void Validate()
    {
        if (Clusters is < 1 or > 255) throw new ArgumentOutOfRangeException(nameof(Clusters), Clusters, "K must be between 1 and 255.");
        if (MaxIterations < 0) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "Iterations cannot be negative.");
        if (!(Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "Tolerance must be a non-negative number.");
        if (!(HybridKMeansShare is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(HybridKMeansShare), HybridKMeansShare, "The k-means share of hybrid must lie strictly between 0 and 1.");
        if (RefineThreshold is { } t && !(t is >= -1 and <= 1)) throw new ArgumentOutOfRangeException(nameof(RefineThreshold), t, "A cosine threshold lies between -1 and 1.");
        if (!(NormOutlierDeviations > 0)) throw new ArgumentOutOfRangeException(nameof(NormOutlierDeviations), NormOutlierDeviations, "Must be positive.");
        if (MergeThreshold is { } m && !(m is >= -1 and <= 1)) throw new ArgumentOutOfRangeException(nameof(MergeThreshold), m, "A cosine threshold lies between -1 and 1.");
        if (!(CoverEvidenceDeviations >= 0)) throw new ArgumentOutOfRangeException(nameof(CoverEvidenceDeviations), CoverEvidenceDeviations, "Must be non-negative.");
        if (!(CoverMaxShare is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(CoverMaxShare), CoverMaxShare, "The covering share lies in [0, 1).");
        if (!Enum.IsDefined(Strategy)) throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "Unknown strategy.");
    }

    /// <summary>The aggregator these settings describe.</summary>
    public IAggregator CreateAggregator()
    {
        IAggregator aggregator = Strategy switch
        {
            AggregationStrategy.KMeans => new SphericalKMeans(this),
            AggregationStrategy.KCenter => new KCenterAggregator(this),
            AggregationStrategy.Hybrid => new HybridAggregator(this),
            AggregationStrategy.Cover => new CoverAggregator(this),
            _ => throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "Unknown strategy."),
        };
        return MergeThreshold is { } threshold ? new NearDuplicateMerge(aggregator, threshold) : aggregator;
    }
}
