namespace ObjectRetrieval.Core.Embeddings;

/// <summary>
/// One image's output of the image tower: a per-patch embedding for each cell of the patch grid
/// (row-major, <see cref="PatchCount"/> × <see cref="Dimension"/>) and the global embedding.
/// Patches may come from several tiles; <see cref="GridWidth"/> × <see cref="GridHeight"/> then
/// describes the first (whole-image) grid and the remaining patches follow it.
/// </summary>
public sealed class DenseEmbeddings
{
    public DenseEmbeddings(float[] patches, int patchCount, int dimension, float[] global, int gridWidth, int gridHeight, float[]? rawNorms = null)
    {
        if (dimension <= 0) throw new InvalidEmbeddingException($"Dimension must be positive, got {dimension}.");
        if (patchCount <= 0) throw new InvalidEmbeddingException("An image needs at least one patch embedding.");
        if (patches.Length != patchCount * dimension)
        {
            throw new InvalidEmbeddingException($"Patch buffer holds {patches.Length} values, expected {patchCount} × {dimension}.");
        }

        if (global.Length != dimension)
        {
            throw new InvalidEmbeddingException($"Global embedding has {global.Length} dimensions, expected {dimension}.");
        }

        if (gridWidth <= 0 || gridHeight <= 0 || gridWidth * gridHeight > patchCount)
        {
            throw new InvalidEmbeddingException($"Grid {gridWidth}×{gridHeight} does not fit {patchCount} patches.");
        }

        if (rawNorms is not null && rawNorms.Length != patchCount)
        {
            throw new InvalidEmbeddingException($"Raw norms hold {rawNorms.Length} values, expected {patchCount}.");
        }

        VectorMath.EnsureFinite(patches, "Patch embeddings");
        VectorMath.EnsureFinite(global, "Global embedding");
        Patches = patches;
        PatchCount = patchCount;
        Dimension = dimension;
        Global = global;
        GridWidth = gridWidth;
        GridHeight = gridHeight;
        RawNorms = rawNorms;
    }

    public float[] Patches { get; }

    public int PatchCount { get; }

    public int Dimension { get; }

    public float[] Global { get; }

    public int GridWidth { get; }

    public int GridHeight { get; }

    /// <summary>Pre-normalisation norm of each patch embedding, when the encoder kept it (outlier guard).</summary>
    public float[]? RawNorms { get; }

    public ReadOnlySpan<float> Patch(int index) => Patches.AsSpan(index * Dimension, Dimension);

    /// <summary>Returns a copy whose patches and global vector are L2-normalised (zero vectors stay zero); raw norms are kept.</summary>
    public DenseEmbeddings Normalized()
    {
        float[] patches = (float[])Patches.Clone();
        float[] norms = RawNorms ?? new float[PatchCount];
        VectorMath.NormalizeRows(patches, PatchCount, Dimension, RawNorms is null ? norms : default);
        float[] global = (float[])Global.Clone();
        VectorMath.Normalize(global);
        return new DenseEmbeddings(patches, PatchCount, Dimension, global, GridWidth, GridHeight, norms);
    }
}
