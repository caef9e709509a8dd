using System.Buffers;
using ObjectRetrieval.Encoding.Models;
using SkiaSharp;

namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>
/// Encoded bytes → normalised CHW model input. Decodes JPEG, PNG, WebP, GIF (first frame) and BMP
/// with SkiaSharp into pooled managed memory, applies the EXIF orientation, covers the whole image with
/// overlapping squares (or resizes with the model's centre crop or padding), optionally adds overlapping tiles, and normalises by the model's mean and std.
/// Thread-safe: holds no mutable state.
/// </summary>
public sealed class ImagePreprocessor
{
    private static readonly SKSamplingOptions Sampling = new(SKFilterMode.Linear, SKMipmapMode.Linear);
    private static readonly SKColorSpace Srgb = SKColorSpace.CreateSrgb();

    private readonly float[] _lookup; // 3 × 256: normalised value of each byte per channel
    private readonly SKColor _padColour;

    public ImagePreprocessor(int size, float[] mean, float[] std, ResizeMode resize, ImageLimits? limits = null, TilingOptions? tiling = null, ImageCoverage coverage = ImageCoverage.ModelResize)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "Input size must be positive.");
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException("Mean and std need three values (r, g, b).");
        tiling?.Validate();
        Size = size;
        Resize = resize;
        Limits = limits ?? ImageLimits.Default;
        Tiling = tiling;
        Coverage = coverage;
        _lookup = new float[3 * 256];
        for (int c = 0; c < 3; c++)
        {
            for (int v = 0; v < 256; v++) _lookup[c * 256 + v] = (v / 255f - mean[c]) / std[c];
        }

        // Padding and transparency show the mean colour, which normalises to (almost) zero: no signal.
        _padColour = new SKColor(ToByte(mean[0]), ToByte(mean[1]), ToByte(mean[2]));
    }

    public ImagePreprocessor(ImageTowerSpec spec, ImageLimits? limits = null, TilingOptions? tiling = null, int? size = null, ImageCoverage coverage = ImageCoverage.ModelResize)
        : this(size ?? spec.ImageSize, spec.Mean, spec.Std, spec.Resize, limits, tiling, coverage)
    {
    }

    public int Size { get; }

    public ResizeMode Resize { get; }

    public ImageLimits Limits { get; }

    /// <summary>Decoded pixels in memory at once, shared by every preprocessor of the process unless set.</summary>
    public PixelBudget Budget { get; init; } = PixelBudget.Shared;

    /// <summary>Decode buffers up to this size come from the shared array pool; larger ones are allocated and dropped.</summary>
    private const int MaxPooledDecodeBytes = 16 << 20;

    public TilingOptions? Tiling { get; }

    public ImageCoverage Coverage { get; }

    /// <summary>
    /// The part of an upright <paramref name="width"/> × <paramref name="height"/> image the model sees (left, top, right,
    /// bottom in pixels): all of it, except under the model's centre crop, which keeps the centre square.
    /// </summary>
    public (float Left, float Top, float Right, float Bottom) SeenRegion(int width, int height)
    {
        if (Coverage == ImageCoverage.WholeImage || Resize == ResizeMode.Pad) return (0, 0, width, height);
        float side = Math.Min(width, height);
        float left = (width - side) / 2, top = (height - side) / 2;
        return (left, top, left + side, top + side);
    }

    /// <summary>Decodes and prepares one image; throws <see cref="ImageDecodeException"/> for anything unusable.</summary>
    public PreprocessedImage Preprocess(ReadOnlySpan<byte> encoded)
    {
        using SKCodec codec = OpenValidated(encoded, out string format);
        SKImageInfo header = codec.Info;
        SKEncodedOrigin origin = codec.EncodedOrigin;
        bool swapsAxes = SwapsAxes(origin);
        int orientedWidth = swapsAxes ? header.Height : header.Width;
        int orientedHeight = swapsAxes ? header.Width : header.Height;

        WholeImageLayout? layout = Coverage == ImageCoverage.WholeImage ? WholeImageLayout.For(orientedWidth, orientedHeight) : null;
        List<SKRect> regions = ViewRegions(orientedWidth, orientedHeight, layout);
        SKSizeI decodeSize = ChooseDecodeSize(codec, header, regions);
        float storedScaleX = (float)decodeSize.Width / header.Width;
        float storedScaleY = (float)decodeSize.Height / header.Height;
        float orientedScaleX = swapsAxes ? storedScaleY : storedScaleX;
        float orientedScaleY = swapsAxes ? storedScaleX : storedScaleY;

        var decodeInfo = new SKImageInfo(decodeSize.Width, decodeSize.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, Srgb);
        int decodedBytes = decodeInfo.RowBytes * decodeInfo.Height;

        // Reserved before the pixels exist; large buffers are not pooled, so what the budget frees is freed.
        using PixelBudget.Lease reservation = Budget.Reserve((long)decodeSize.Width * decodeSize.Height);
        bool pooled = decodedBytes <= MaxPooledDecodeBytes;
        byte[] decoded = pooled ? ArrayPool<byte>.Shared.Rent(decodedBytes) : GC.AllocateUninitializedArray<byte>(decodedBytes);
        float[] output = ArrayPool<float>.Shared.Rent(regions.Count * 3 * Size * Size);
        byte[] view = ArrayPool<byte>.Shared.Rent(Size * Size * 4);
        try
        {
            unsafe
            {
                fixed (byte* decodedPtr = decoded)
                fixed (byte* viewPtr = view)
                {
                    SKCodecResult result = codec.GetPixels(decodeInfo, (IntPtr)decodedPtr, decodeInfo.RowBytes, new SKCodecOptions(0));
                    ThrowOnDecodeFailure(format, result);

                    using var pixmap = new SKPixmap(decodeInfo, (IntPtr)decodedPtr, decodeInfo.RowBytes);
                    using SKImage image = SKImage.FromPixels(pixmap);
                    var viewInfo = new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Premul, Srgb);
                    using SKSurface surface = SKSurface.Create(viewInfo, (IntPtr)viewPtr, viewInfo.RowBytes)
                        ?? throw new InvalidOperationException("Could not create the drawing surface.");
                    SKMatrix orient = OrientationMatrix(origin, decodeSize.Width, decodeSize.Height);

                    for (int v = 0; v < regions.Count; v++)
                    {
                        SKRect region = Scale(regions[v], orientedScaleX, orientedScaleY);
                        DrawView(surface.Canvas, image, orient, region, crop: v < (layout?.Views ?? 0));
                        surface.Flush();
                        WriteNormalised(view.AsSpan(0, Size * Size * 4), output.AsSpan(v * 3 * Size * Size, 3 * Size * Size));
                    }
                }
            }

            var prepared = new PreprocessedImage(output, regions.Count, Size, orientedWidth, orientedHeight, layout);
            output = null!;
            return prepared;
        }
        finally
        {
            if (pooled) ArrayPool<byte>.Shared.Return(decoded);
            ArrayPool<byte>.Shared.Return(view);
            if (output is not null) ArrayPool<float>.Shared.Return(output);
        }
    }

    /// <summary>
    /// Decodes with the same checks as <see cref="Preprocess"/> and returns the upright (EXIF-oriented)
    /// image at full resolution, for thumbnails and match overlays.
    /// </summary>
    public SKBitmap DecodeUpright(ReadOnlySpan<byte> encoded)
    {
        using SKCodec codec = OpenValidated(encoded, out string format);
        SKImageInfo header = codec.Info;
        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Premul, Srgb);
        using var stored = new SKBitmap(info);
        ThrowOnDecodeFailure(format, codec.GetPixels(info, stored.GetPixels()));
        SKEncodedOrigin origin = codec.EncodedOrigin;
        bool swaps = SwapsAxes(origin);
        var upright = new SKBitmap(new SKImageInfo(swaps ? header.Height : header.Width, swaps ? header.Width : header.Height, SKColorType.Rgba8888, SKAlphaType.Premul, Srgb));
        using var canvas = new SKCanvas(upright);
        canvas.SetMatrix(OrientationMatrix(origin, header.Width, header.Height));
        using SKImage storedImage = SKImage.FromBitmap(stored);
        canvas.DrawImage(storedImage, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        return upright;
    }

    /// <summary>Size, signature, header and pixel-count checks; returns an open codec or throws <see cref="ImageDecodeException"/>.</summary>
    private SKCodec OpenValidated(ReadOnlySpan<byte> encoded, out string format)
    {
        if (encoded.IsEmpty) throw new ImageDecodeException(ImageDecodeFailure.Empty, "The file is empty (0 bytes).");
        if (encoded.Length > Limits.MaxBytes)
        {
            throw new ImageDecodeException(ImageDecodeFailure.TooLarge, $"The file has {encoded.Length} bytes; the limit is {Limits.MaxBytes}.");
        }

        format = ImageFormatSniffer.Sniff(encoded)
            ?? throw new ImageDecodeException(ImageDecodeFailure.UnknownFormat, "The data does not start with a JPEG, PNG, WebP, GIF or BMP signature.");

        SKCodec codec = OpenCodec(encoded, format);
        try
        {
            SKImageInfo header = codec.Info;
            if (header.Width <= 0 || header.Height <= 0)
            {
                throw new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The {format} header declares {header.Width}×{header.Height} pixels.");
            }

            // The bomb guard: the header alone decides, before any pixel memory is allocated.
            long pixels = (long)header.Width * header.Height;
            if (pixels > Limits.MaxPixels)
            {
                throw new ImageDecodeException(
                    ImageDecodeFailure.TooManyPixels,
                    $"The {format} header declares {header.Width}×{header.Height} = {pixels} pixels; the limit is {Limits.MaxPixels}.");
            }

            return codec;
        }
        catch
        {
            codec.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The whole image first (one view, or the squares of its whole-image layout), then the tiles, as rectangles in
    /// oriented source pixels.
    /// </summary>
    private List<SKRect> ViewRegions(int width, int height, WholeImageLayout? layout)
    {
        var regions = new List<SKRect>();
        if (layout is null)
        {
            regions.Add(new SKRect(0, 0, width, height));
        }
        else
        {
            float side = Math.Min(width, height);
            foreach (float offset in layout.Offsets)
            {
                float start = offset * side;
                regions.Add(layout.Horizontal ? new SKRect(start, 0, Math.Min(width, start + side), height) : new SKRect(0, start, width, Math.Min(height, start + side)));
            }
        }

        if (Tiling is null || Tiling.Grid < 2 || Math.Min(width, height) < Tiling.MinShortSide) return regions;

        int n = Tiling.Grid;
        float tileWidth = width / (n - (n - 1) * Tiling.Overlap);
        float tileHeight = height / (n - (n - 1) * Tiling.Overlap);
        float stepX = tileWidth * (1 - Tiling.Overlap);
        float stepY = tileHeight * (1 - Tiling.Overlap);
        for (int row = 0; row < n; row++)
        {
            for (int col = 0; col < n; col++)
            {
                float left = col * stepX;
                float top = row * stepY;
                regions.Add(new SKRect(left, top, Math.Min(width, left + tileWidth), Math.Min(height, top + tileHeight)));
            }
        }

        return regions;
    }

    /// <summary>
    /// Decodes JPEGs (and WebP) at a reduced scale when the model needs far fewer pixels: the codec then
    /// does much less work. Never goes below the resolution the smallest view needs.
    /// </summary>
    private SKSizeI ChooseDecodeSize(SKCodec codec, SKImageInfo header, List<SKRect> regions)
    {
        float needed = 0;
        foreach (SKRect region in regions)
        {
            float side = Resize == ResizeMode.CenterCrop ? Math.Min(region.Width, region.Height) : Math.Max(region.Width, region.Height);
            needed = Math.Max(needed, Size / side);
        }

        if (needed >= 1) return new SKSizeI(header.Width, header.Height);

        int neededWidth = (int)Math.Ceiling(header.Width * needed);
        int neededHeight = (int)Math.Ceiling(header.Height * needed);
        for (float scale = needed; scale < 1; scale += 1 / 16f)
        {
            SKSizeI size = codec.GetScaledDimensions(scale);
            if (size.Width >= neededWidth && size.Height >= neededHeight && size.Width > 0 && size.Height > 0) return size;
        }

        return new SKSizeI(header.Width, header.Height);
    }

    private void DrawView(SKCanvas canvas, SKImage image, SKMatrix orient, SKRect region, bool crop)
    {
        SKRect source;
        SKRect destination;
        if (crop || Resize == ResizeMode.CenterCrop)
        {
            float side = Math.Min(region.Width, region.Height);
            float left = region.Left + (region.Width - side) / 2;
            float top = region.Top + (region.Height - side) / 2;
            source = new SKRect(left, top, left + side, top + side);
            destination = new SKRect(0, 0, Size, Size);
        }
        else
        {
            float scale = Size / Math.Max(region.Width, region.Height);
            float width = region.Width * scale;
            float height = region.Height * scale;
            source = region;
            float left = (Size - width) / 2;
            float top = (Size - height) / 2;
            destination = new SKRect(left, top, left + width, top + height);
        }

        // oriented source → destination, after stored pixels → oriented source
        SKMatrix toDestination = SKMatrix.CreateTranslation(destination.Left, destination.Top)
            .PreConcat(SKMatrix.CreateScale(destination.Width / source.Width, destination.Height / source.Height))
            .PreConcat(SKMatrix.CreateTranslation(-source.Left, -source.Top));

        canvas.ResetMatrix();
        canvas.Clear(_padColour);
        canvas.Save();
        canvas.ClipRect(destination);
        canvas.SetMatrix(toDestination.PreConcat(orient));
        canvas.DrawImage(image, 0, 0, Sampling);
        canvas.Restore();
    }

    private void WriteNormalised(ReadOnlySpan<byte> rgba, Span<float> chw)
    {
        int plane = Size * Size;
        Span<float> red = chw[..plane];
        Span<float> green = chw.Slice(plane, plane);
        Span<float> blue = chw.Slice(2 * plane, plane);
        ReadOnlySpan<float> lookup = _lookup;
        ReadOnlySpan<float> redLookup = lookup[..256];
        ReadOnlySpan<float> greenLookup = lookup.Slice(256, 256);
        ReadOnlySpan<float> blueLookup = lookup.Slice(512, 256);
        for (int i = 0, p = 0; i < plane; i++, p += 4)
        {
            red[i] = redLookup[rgba[p]];
            green[i] = greenLookup[rgba[p + 1]];
            blue[i] = blueLookup[rgba[p + 2]];
        }
    }

    /// <summary>Maps stored pixel coordinates to upright ones for each EXIF orientation.</summary>
    internal static SKMatrix OrientationMatrix(SKEncodedOrigin origin, float width, float height) => origin switch
    {
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, width, 0, 1, 0, 0, 0, 1),
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, width, 0, -1, height, 0, 0, 1),
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, height, 0, 0, 1),
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, height, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, height, -1, 0, width, 0, 0, 1),
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, width, 0, 0, 1),
        _ => SKMatrix.Identity,
    };

    private static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    private static SKRect Scale(SKRect rect, float scaleX, float scaleY) =>
        new(rect.Left * scaleX, rect.Top * scaleY, rect.Right * scaleX, rect.Bottom * scaleY);

    private static SKCodec OpenCodec(ReadOnlySpan<byte> encoded, string format)
    {
        using SKData data = SKData.CreateCopy(encoded);
        var stream = new SKMemoryStream(data); // owned by the codec once it exists
        SKCodec? codec = SKCodec.Create(stream, out SKCodecResult result);
        if (codec is not null) return codec;
        stream.Dispose();
        throw CreateFailure(format, result);
    }

    private static ImageDecodeException CreateFailure(string format, SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => new ImageDecodeException(ImageDecodeFailure.Truncated, $"The {format} data ends inside its header."),
        SKCodecResult.Unimplemented => new ImageDecodeException(ImageDecodeFailure.UnsupportedFormat, $"This {format} variant is not supported."),
        _ => new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The {format} header is invalid ({result})."),
    };

    private static void ThrowOnDecodeFailure(string format, SKCodecResult result)
    {
        switch (result)
        {
            case SKCodecResult.Success:
                return;
            case SKCodecResult.IncompleteInput:
                throw new ImageDecodeException(ImageDecodeFailure.Truncated, $"The {format} data ends before the image does.");
            case SKCodecResult.ErrorInInput:
            case SKCodecResult.InvalidInput:
                throw new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The {format} data is damaged ({result}).");
            default:
                throw new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The {format} image could not be decoded ({result}).");
        }
    }

    private static byte ToByte(float unit) => (byte)Math.Clamp((int)MathF.Round(unit * 255f), 0, 255);
}
