namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>Bounds that keep hostile or broken inputs from exhausting memory.</summary>
public sealed record ImageLimits
{
    public static ImageLimits Default { get; } = new();

    /// <summary>Largest encoded size accepted.</summary>
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest width × height accepted, checked on the header before any pixel memory exists.</summary>
    public long MaxPixels { get; init; } = 100_000_000;
}

/// <summary>
/// Multi-scale tiling: besides the whole image, a <see cref="Grid"/> × <see cref="Grid"/> set of
/// overlapping tiles is encoded at full input size, so small objects cover more patches.
/// </summary>
public sealed record TilingOptions
{
    /// <summary>Tiles per side (2 gives four tiles).</summary>
    public int Grid { get; init; } = 2;

    /// <summary>Fraction of a tile shared with its neighbour.</summary>
    public float Overlap { get; init; } = 0.25f;

    /// <summary>Images whose shorter side is below this are not tiled: tiles would only upsample.</summary>
    public int MinShortSide { get; init; }

    public void Validate()
    {
        if (Grid < 1 || Grid > 8) throw new ArgumentOutOfRangeException(nameof(Grid), Grid, "Tiling grid must be 1 to 8.");
        if (Overlap < 0 || Overlap >= 1) throw new ArgumentOutOfRangeException(nameof(Overlap), Overlap, "Overlap must be in [0, 1).");
    }
}
