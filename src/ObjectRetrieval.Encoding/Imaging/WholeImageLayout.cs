namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>What part of an image the encoder looks at.</summary>
public enum ImageCoverage
{
    /// <summary>The model's own resize (centre crop or pad): one square view, so a wide image loses its sides.</summary>
    ModelResize,

    /// <summary>
    /// The whole image: the short side resized to the input size and overlapping square views laid along the long
    /// side, their patch grids merged into one grid of the image's aspect ratio before aggregation.
    /// </summary>
    WholeImage,
}

/// <summary>
/// How the first <see cref="Views"/> square views of a <see cref="ImageCoverage.WholeImage"/> image lie along its long
/// side: view v starts at <see cref="Offsets"/>[v] short sides from the top or left; the long side is
/// <see cref="AspectRatio"/> short sides.
/// </summary>
public sealed record WholeImageLayout(int Views, bool Horizontal, float AspectRatio, float[] Offsets)
{
    /// <summary>Views along the long side: as many squares as it takes to cover it, evenly spaced (so they overlap).</summary>
    public static WholeImageLayout For(int width, int height)
    {
        bool horizontal = width >= height;
        float ratio = (float)Math.Max(width, height) / Math.Min(width, height);
        int views = Math.Max(1, (int)Math.Ceiling(ratio - 1e-3f));
        float step = views == 1 ? 0 : (ratio - 1) / (views - 1);
        return new WholeImageLayout(views, horizontal, ratio, Enumerable.Range(0, views).Select(v => v * step).ToArray());
    }

    /// <summary>Cells of the merged grid along the long side for views of <paramref name="grid"/> patches per side.</summary>
    public int LongCells(int grid) => Math.Max(grid, (int)Math.Round(AspectRatio * grid));

    /// <summary>Merged grid (width, height) for views of <paramref name="grid"/> patches per side.</summary>
    public (int Width, int Height) MergedGrid(int grid) => Horizontal ? (LongCells(grid), grid) : (grid, LongCells(grid));

    /// <summary>
    /// Merges the views' patch grids (each grid × grid × d, row-major, in <paramref name="views"/>) into the image's grid:
    /// each merged cell is the mean of the view cells that cover its centre. Returns cells × d values, row-major.
    /// </summary>
    public float[] Merge(ReadOnlySpan<float> views, int grid, int d)
    {
        int cells = LongCells(grid);
        float[] merged = new float[cells * grid * d];
        int[] counts = new int[cells];
        int perView = grid * grid * d;
        for (int c = 0; c < cells; c++)
        {
            float t = (c + 0.5f) / cells * AspectRatio;
            for (int v = 0; v < Views; v++)
            {
                float local = t - Offsets[v];
                if (local < 0 || local >= 1) continue;
                int j = Math.Min(grid - 1, (int)(local * grid));
                counts[c]++;
                for (int r = 0; r < grid; r++)
                {
                    int source = Horizontal ? r * grid + j : j * grid + r;
                    int target = Horizontal ? r * cells + c : c * grid + r;
                    System.Numerics.Tensors.TensorPrimitives.Add(merged.AsSpan(target * d, d), views.Slice(v * perView + source * d, d), merged.AsSpan(target * d, d));
                }
            }
        }

        for (int c = 0; c < cells; c++)
        {
            if (counts[c] <= 1) continue;
            for (int r = 0; r < grid; r++)
            {
                int target = Horizontal ? r * cells + c : c * grid + r;
                System.Numerics.Tensors.TensorPrimitives.Divide(merged.AsSpan(target * d, d), counts[c], merged.AsSpan(target * d, d));
            }
        }

        return merged;
    }
}
