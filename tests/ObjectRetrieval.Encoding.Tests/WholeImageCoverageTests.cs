using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Models;
using SkiaSharp;

namespace ObjectRetrieval.Encoding.Tests;

public sealed class WholeImageCoverageTests
{
    private static readonly float[] Mean = [0.5f, 0.5f, 0.5f];
    private static readonly float[] Std = [0.5f, 0.5f, 0.5f];

    private static byte[] Columns(int width, int height, Func<int, int, byte> red)
    {
        using var bitmap = new SKBitmap(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) bitmap.SetPixel(x, y, new SKColor(red(x, y), 0, 0));
        }

        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Theory]
    [InlineData(96, 32, 3, true)]
    [InlineData(32, 80, 3, false)]
    [InlineData(64, 48, 2, true)]
    [InlineData(40, 40, 1, true)]
    public void Squares_cover_the_long_side_from_edge_to_edge(int width, int height, int views, bool horizontal)
    {
        WholeImageLayout layout = WholeImageLayout.For(width, height);
        Assert.Equal(views, layout.Views);
        Assert.Equal(horizontal, layout.Horizontal);
        Assert.Equal(0f, layout.Offsets[0]);
        Assert.Equal(layout.AspectRatio, layout.Offsets[^1] + 1, 4);
    }

    [Fact]
    public void A_wide_image_is_seen_to_its_edges_where_the_centre_crop_loses_them()
    {
        // 96×32: a bright column at each far edge, dark elsewhere; centre crop keeps only the dark middle.
        byte[] png = Columns(96, 32, (x, _) => x < 4 || x >= 92 ? (byte)255 : (byte)0);
        var whole = new ImagePreprocessor(32, Mean, Std, ResizeMode.CenterCrop, coverage: ImageCoverage.WholeImage);
        var crop = new ImagePreprocessor(32, Mean, Std, ResizeMode.CenterCrop);

        using PreprocessedImage seen = whole.Preprocess(png);
        using PreprocessedImage cropped = crop.Preprocess(png);

        Assert.Equal(3, seen.ViewCount);
        Assert.Equal(1f, seen.At(0, 0, 1, 16), 3);  // left edge, first square
        Assert.Equal(1f, seen.At(2, 0, 30, 16), 3); // right edge, last square
        Assert.Equal(-1f, cropped.At(0, 0, 1, 16), 3);
        Assert.Equal(-1f, cropped.At(0, 0, 30, 16), 3);
        Assert.Equal((0f, 0f, 96f, 32f), whole.SeenRegion(96, 32));
        Assert.Equal((32f, 0f, 64f, 32f), crop.SeenRegion(96, 32));
    }

    [Fact]
    public void Merging_puts_each_view_cell_at_its_place_in_the_image_grid_and_averages_overlaps()
    {
        // 2 views of a 2 × 2 grid over an image 1.5 squares wide: merged grid 3 × 2; the middle column is covered twice.
        var layout = new WholeImageLayout(2, Horizontal: true, AspectRatio: 1.5f, Offsets: [0f, 0.5f]);
        // value = view * 10 + cell, D = 1
        float[] views = [0, 1, 2, 3, 10, 11, 12, 13];
        float[] merged = layout.Merge(views, grid: 2, d: 1);
        Assert.Equal((3, 2), layout.MergedGrid(2));
        // Row 0: view 0 cell 0 | mean(view 0 cell 1, view 1 cell 0) | view 1 cell 1
        Assert.Equal([0f, (1 + 10) / 2f, 11f, 2f, (3 + 12) / 2f, 13f], merged);
    }

    [Fact]
    public void A_tall_image_merges_along_its_rows()
    {
        var layout = new WholeImageLayout(2, Horizontal: false, AspectRatio: 2f, Offsets: [0f, 1f]);
        float[] views = [0, 1, 2, 3, 10, 11, 12, 13];
        float[] merged = layout.Merge(views, grid: 2, d: 1);
        Assert.Equal((2, 4), layout.MergedGrid(2));
        Assert.Equal([0f, 1f, 2f, 3f, 10f, 11f, 12f, 13f], merged);
    }
}
