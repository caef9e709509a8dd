namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// The outcome of aggregating one image's patches: <see cref="Count"/> unit vectors
/// (row-major, Count × Dimension), how many patches each one stands for, and the
/// patch → vector assignment map (one byte per patch, so at most 255 vectors).
/// </summary>
public sealed record AggregatedImage(float[] Vectors, int Count, int Dimension, int[] Sizes, byte[] Assignment)
{
    public ReadOnlySpan<float> Vector(int index) => Vectors.AsSpan(index * Dimension, Dimension);
}

/// <summary>Turns one image's normalised patch embeddings into a few vectors. Deterministic per image id.</summary>
public interface IAggregator
{
    /// <summary>Short name as used in index definitions and on the command line (e.g. "kmeans").</summary>
    string Name { get; }

    AggregatedImage Aggregate(string imageId, Embeddings.DenseEmbeddings normalizedPatches);
}
