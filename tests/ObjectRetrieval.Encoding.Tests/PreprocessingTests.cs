using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Models;
using SkiaSharp;

namespace ObjectRetrieval.Encoding.Tests;

public sealed class PreprocessingTests
{
    private static readonly float[] Mean = [0.5f, 0.4f, 0.3f];
    private static readonly float[] Std = [0.25f, 0.2f, 0.1f];

    private static float Expected(int channel, byte value) => (value / 255f - Mean[channel]) / Std[channel];

    [Fact]
    public void An_image_at_input_size_passes_through_pixel_for_pixel()
    {
        const int Size = 32;
        var random = new Random(3);
        byte[] rgb = new byte[Size * Size * 3];
        random.NextBytes(rgb);
        byte[] png = EncodePng(Size, Size, (x, y) => (rgb[(y * Size + x) * 3], rgb[(y * Size + x) * 3 + 1], rgb[(y * Size + x) * 3 + 2]));

        var preprocessor = new ImagePreprocessor(Size, Mean, Std, ResizeMode.CenterCrop);
        using PreprocessedImage image = preprocessor.Preprocess(png);

        Assert.Equal(1, image.ViewCount);
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(Expected(c, rgb[(y * Size + x) * 3 + c]), image.At(0, c, x, y), 5);
                }
            }
        }
    }

    [Fact]
    public void Centre_crop_keeps_the_middle_square_of_a_wide_image()
    {
        // 96×32: three 32-px columns red | green | blue. The crop to 32×32 is the green middle.
        byte[] png = EncodePng(96, 32, (x, _) => x < 32 ? ((byte)255, (byte)0, (byte)0) : x < 64 ? ((byte)0, (byte)255, (byte)0) : ((byte)0, (byte)0, (byte)255));
        var preprocessor = new ImagePreprocessor(32, Mean, Std, ResizeMode.CenterCrop);
        using PreprocessedImage image = preprocessor.Preprocess(png);

        Assert.Equal(96, image.Width);
        Assert.Equal(32, image.Height);
        foreach ((int x, int y) in new[] { (0, 0), (31, 31), (16, 5), (1, 30) })
        {
            Assert.Equal(Expected(0, 0), image.At(0, 0, x, y), 4);
            Assert.Equal(Expected(1, 255), image.At(0, 1, x, y), 4);
            Assert.Equal(Expected(2, 0), image.At(0, 2, x, y), 4);
        }
    }

    [Fact]
    public void Downscaling_by_two_keeps_flat_quadrants_exact_away_from_edges()
    {
        // 64×64 quadrants, scaled to 32×32: each output quadrant interior is the flat input colour.
        (byte, byte, byte)[] quadrants = [(200, 10, 10), (10, 200, 10), (10, 10, 200), (240, 240, 20)];
        byte[] png = EncodePng(64, 64, (x, y) => quadrants[(y / 32) * 2 + x / 32]);
        var preprocessor = new ImagePreprocessor(32, Mean, Std, ResizeMode.CenterCrop);
        using PreprocessedImage image = preprocessor.Preprocess(png);

        foreach ((int x, int y, int q) in new[] { (4, 4, 0), (27, 4, 1), (4, 27, 2), (27, 27, 3), (8, 12, 0) })
        {
            (byte r, byte g, byte b) = quadrants[q];
            Assert.Equal(Expected(0, r), image.At(0, 0, x, y), 3);
            Assert.Equal(Expected(1, g), image.At(0, 1, x, y), 3);
            Assert.Equal(Expected(2, b), image.At(0, 2, x, y), 3);
        }
    }

    [Fact]
    public void Padding_fills_with_the_mean_colour_which_normalises_to_about_zero()
    {
        // 32×16 white image padded into 32×32: rows 0–7 and 24–31 are padding.
        byte[] png = EncodePng(32, 16, (_, _) => ((byte)255, (byte)255, (byte)255));
        var preprocessor = new ImagePreprocessor(32, Mean, Std, ResizeMode.Pad);
        using PreprocessedImage image = preprocessor.Preprocess(png);

        for (int c = 0; c < 3; c++)
        {
            // The pad colour is the mean rounded to a byte: within half a level of zero.
            float halfLevel = 0.501f / 255f / Std[c];
            Assert.InRange(image.At(0, c, 10, 3), -halfLevel, halfLevel);
            Assert.InRange(image.At(0, c, 20, 28), -halfLevel, halfLevel);
            Assert.Equal(Expected(c, 255), image.At(0, c, 10, 12), 4);
            Assert.Equal(Expected(c, 255), image.At(0, c, 31, 23), 4);
        }
    }

    [Fact]
    public void Tiling_adds_overlapping_tiles_after_the_whole_image()
    {
        // 64×64 left red, right blue; 2×2 tiles without overlap are each a flat colour.
        byte[] png = EncodePng(64, 64, (x, _) => x < 32 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)255));
        var preprocessor = new ImagePreprocessor(16, Mean, Std, ResizeMode.CenterCrop, tiling: new TilingOptions { Grid = 2, Overlap = 0f });
        using PreprocessedImage image = preprocessor.Preprocess(png);

        Assert.Equal(5, image.ViewCount);
        Assert.Equal(Expected(0, 255), image.At(1, 0, 8, 8), 3); // top-left tile: red
        Assert.Equal(Expected(2, 255), image.At(2, 2, 8, 8), 3); // top-right tile: blue
        Assert.Equal(Expected(0, 255), image.At(3, 0, 8, 8), 3); // bottom-left tile: red
        Assert.Equal(Expected(2, 255), image.At(4, 2, 8, 8), 3); // bottom-right tile: blue
    }

    [Theory]
    [InlineData(SKEncodedOrigin.TopRight)]
    [InlineData(SKEncodedOrigin.BottomRight)]
    [InlineData(SKEncodedOrigin.BottomLeft)]
    [InlineData(SKEncodedOrigin.LeftTop)]
    [InlineData(SKEncodedOrigin.RightTop)]
    [InlineData(SKEncodedOrigin.RightBottom)]
    [InlineData(SKEncodedOrigin.LeftBottom)]
    public void Orientation_matrices_map_the_stored_image_onto_the_upright_frame(SKEncodedOrigin origin)
    {
        const float W = 40, H = 20;
        SKMatrix matrix = ImagePreprocessor.OrientationMatrix(origin, W, H);
        bool swaps = origin >= SKEncodedOrigin.LeftTop;
        SKRect mapped = matrix.MapRect(new SKRect(0, 0, W, H));
        Assert.Equal(new SKRect(0, 0, swaps ? H : W, swaps ? W : H), mapped);

        // Orientation 6 (RightTop) is "rotate 90° clockwise to view": the stored top-left lands top-right.
        if (origin == SKEncodedOrigin.RightTop) Assert.Equal(new SKPoint(H, 0), matrix.MapPoint(0, 0));
        if (origin == SKEncodedOrigin.LeftBottom) Assert.Equal(new SKPoint(0, W), matrix.MapPoint(0, 0));
    }

    internal static byte[] EncodePng(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                (byte r, byte g, byte b) = pixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        }

        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
