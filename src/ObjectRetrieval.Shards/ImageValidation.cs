using System.Numerics.Tensors;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Shards;

/// <summary>
/// Every check an image must pass before it is logged, and again when a logged record is replayed: a record
/// that passes here can always be applied, so one bad record can never stop a shard from starting.
/// </summary>
public static class ImageValidation
{
    /// <summary>Why the image cannot go into a shard of this layout, or null.</summary>
    public static string? Problem(ImageRepresentation image, ShardLayout layout)
    {
        if (string.IsNullOrEmpty(image.ImageId)) return "An image has an empty id.";
        string id = image.ImageId;
        if (image.Dimension != layout.Dimension) return $"Image '{id}' has dimension {image.Dimension}; index '{layout.IndexName}' holds {layout.Dimension}.";
        if (image.CentroidCount < 1) return $"Image '{id}' has no aggregated vectors.";
        if (image.Global.Length != image.Dimension) return $"Image '{id}' has a global vector of {image.Global.Length} values; dimension is {image.Dimension}.";
        if (image.Centroids.Length != (long)image.CentroidCount * image.Dimension) return $"Image '{id}' has {image.Centroids.Length} centroid values for {image.CentroidCount} centroids of dimension {image.Dimension}.";
        if (image.ClusterSizes.Length != image.CentroidCount) return $"Image '{id}' has {image.ClusterSizes.Length} cluster sizes for {image.CentroidCount} centroids.";
        if (image.GridWidth < 0 || image.GridHeight < 0) return $"Image '{id}' has a negative patch grid {image.GridWidth}×{image.GridHeight}.";
        foreach (byte cluster in image.Assignment)
        {
            if (cluster >= image.CentroidCount) return $"Image '{id}' assigns a patch to cluster {cluster}; it has {image.CentroidCount}.";
        }

        if (!IsFinite(image.Global)) return $"Image '{id}': the global vector holds a NaN or infinite value.";
        for (int c = 0; c < image.CentroidCount; c++)
        {
            if (!IsFinite(image.Centroids.AsSpan(c * image.Dimension, image.Dimension))) return $"Image '{id}': centroid {c} holds a NaN or infinite value.";
        }

        if (layout.KeepDense)
        {
            if (image.DensePatches is not { } dense) return $"Index '{layout.IndexName}' keeps dense patches but image '{id}' has none.";
            if (dense.LongLength != (long)image.PatchCount * image.Dimension) return $"Image '{id}' has {dense.LongLength} dense values for {image.PatchCount} patches.";
            if (!IsFinite(dense)) return $"Image '{id}': a dense patch vector holds a NaN or infinite value.";
        }

        return null;
    }

    // NaN and infinities survive a sum: one vectorised pass (a huge finite sum could overflow, so check element-wise then).
    private static bool IsFinite(ReadOnlySpan<float> values)
    {
        if (float.IsFinite(TensorPrimitives.Sum(values))) return true;
        foreach (float value in values)
        {
            if (!float.IsFinite(value)) return false;
        }

        return true;
    }
}
