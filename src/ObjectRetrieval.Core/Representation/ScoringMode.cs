namespace ObjectRetrieval.Core.Representation;

/// <summary>Which of an image's vectors a query is scored against; the image scores the max cosine over them.</summary>
public enum ScoringMode
{
    /// <summary>One global vector per image: the plain CLIP baseline.</summary>
    Global,

    /// <summary>The aggregated vectors (optionally plus the global one): the product default.</summary>
    Cluster,

    /// <summary>Every patch vector: the accuracy ceiling, for evaluation only.</summary>
    Dense,
}

/// <summary>The vectors an index holds for one image in a given mode.</summary>
public static class ModeVectors
{
    public static bool TryParse(string text, out ScoringMode mode) =>
        Enum.TryParse(text, ignoreCase: true, out mode) && Enum.IsDefined(mode);

    /// <summary>
    /// Row-major vectors and their count. In cluster mode with <paramref name="includeGlobal"/> the global
    /// vector comes last, so ordinals below CentroidCount name a cluster and CentroidCount names the global vector.
    /// </summary>
    public static (float[] Vectors, int Count) For(ImageRepresentation r, ScoringMode mode, bool includeGlobal = false)
    {
        switch (mode)
        {
            case ScoringMode.Global:
                return (r.Global, 1);
            case ScoringMode.Cluster when includeGlobal:
                return ([.. r.Centroids, .. r.Global], r.CentroidCount + 1);
            case ScoringMode.Cluster:
                return (r.Centroids, r.CentroidCount);
            case ScoringMode.Dense:
                float[] dense = r.DensePatches ?? throw new InvalidOperationException(
                    $"Image '{r.ImageId}' was indexed without its patch vectors; dense mode needs an index built to keep them.");
                return (dense, r.PatchCount);
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown scoring mode.");
        }
    }

    /// <summary>Whether a matched vector ordinal names one of the image's clusters (and so has a region to show).</summary>
    public static bool IsCluster(ImageRepresentation r, ScoringMode mode, int ordinal) => IsCluster(r.CentroidCount, mode, ordinal);

    /// <summary>The same, for an image known only by its centroid count.</summary>
    public static bool IsCluster(int centroidCount, ScoringMode mode, int ordinal) =>
        mode == ScoringMode.Cluster && ordinal >= 0 && ordinal < centroidCount;
}
