using ObjectRetrieval.Encoding.Imaging;
using SkiaSharp;

namespace ObjectRetrieval.Demo.Files;

/// <summary>A colour expected at a point of the upright image, given as fractions of its width and height.</summary>
public readonly record struct ExpectedColour(float X, float Y, byte R, byte G, byte B);

/// <summary>
/// One file of the corpus and what a correct decoder does with it: refuse it with
/// <see cref="ExpectedFailure"/>, or decode it to an upright image of the given size and colours.
/// </summary>
public sealed record BadFileCase(string FileName, string Description, ImageDecodeFailure? ExpectedFailure)
{
    public int ExpectedWidth { get; init; }

    public int ExpectedHeight { get; init; }

    public IReadOnlyList<ExpectedColour> ExpectedColours { get; init; } = [];

    public bool ShouldDecode => ExpectedFailure is null;

    public string PathIn(string directory) => Path.Combine(directory, FileName);
}

/// <summary>
/// Inputs that real collections contain and that a decoder must survive: empty, truncated, mislabelled,
/// oversized-by-header (decompression bomb), animated, CMYK, 16-bit, EXIF-rotated and damaged files,
/// next to plain files in each accepted format. Shared by the encoding and ingest tests.
/// </summary>
public static class BadFileCorpus
{
    public const string BombFileName = "bomb-30000x30000.png";

    /// <summary>Writes every case into <paramref name="directory"/> and returns the expectations.</summary>
    public static IReadOnlyList<BadFileCase> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var cases = new List<BadFileCase>();

        void Add(BadFileCase expectation, byte[] bytes)
        {
            File.WriteAllBytes(expectation.PathIn(directory), bytes);
            cases.Add(expectation);
        }

        byte[] halves = EncodeHalves(64, 48, SKEncodedImageFormat.Jpeg);

        Add(new BadFileCase("empty.jpg", "zero bytes", ImageDecodeFailure.Empty), []);
        Add(new BadFileCase("truncated.jpg", "a JPEG cut off after 60% of its bytes", ImageDecodeFailure.Truncated), halves[..(halves.Length * 6 / 10)]);
        Add(new BadFileCase("header-only.jpg", "a JPEG cut inside its header", ImageDecodeFailure.Truncated), halves[..40]);
        Add(new BadFileCase("notes.jpg", "plain text named .jpg", ImageDecodeFailure.UnknownFormat), "These are meeting notes, not a picture.\n"u8.ToArray());
        Add(new BadFileCase("document.png", "a PDF named .png", ImageDecodeFailure.UnknownFormat), "%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n"u8.ToArray());
        Add(new BadFileCase(BombFileName, "a PNG whose header claims 30,000 × 30,000 pixels", ImageDecodeFailure.TooManyPixels), HandWrittenImages.PngClaimingSize(30_000, 30_000));
        // libpng cannot tell damaged compressed data from data that stops early: both end the rows too soon.
        Add(new BadFileCase("garbage-data.png", "a valid PNG header followed by damaged image data", ImageDecodeFailure.Truncated), HandWrittenImages.PngWithGarbageData(32, 32));
        Add(new BadFileCase("bad-header.bmp", "a BMP header declaring 7 bits per pixel", ImageDecodeFailure.Corrupt), HandWrittenImages.BmpWithBitDepth(8, 8, 7));

        Add(
            new BadFileCase("halves.jpg", "a plain JPEG: left half red, right half blue", null)
            {
                ExpectedWidth = 64,
                ExpectedHeight = 48,
                ExpectedColours = [new(0.25f, 0.5f, 220, 40, 40), new(0.75f, 0.5f, 40, 70, 220)],
            },
            halves);
        Add(
            new BadFileCase("halves.png", "a plain PNG", null) { ExpectedWidth = 64, ExpectedHeight = 48, ExpectedColours = HalvesColours },
            EncodeHalves(64, 48, SKEncodedImageFormat.Png));
        Add(
            new BadFileCase("halves.webp", "a plain WebP", null) { ExpectedWidth = 64, ExpectedHeight = 48, ExpectedColours = HalvesColours },
            EncodeHalves(64, 48, SKEncodedImageFormat.Webp));
        Add(
            new BadFileCase("halves.bmp", "a plain 24-bit BMP", null) { ExpectedWidth = 64, ExpectedHeight = 48, ExpectedColours = HalvesColours },
            HandWrittenImages.Bmp(64, 48, (x, _) => x < 32 ? ((byte)220, (byte)40, (byte)40) : ((byte)40, (byte)70, (byte)220)));
        Add(
            new BadFileCase("animated.gif", "an animated GIF: red frame, then blue frame; the first frame counts", null)
            {
                ExpectedWidth = 16,
                ExpectedHeight = 16,
                ExpectedColours = [new(0.5f, 0.5f, 255, 0, 0)],
            },
            HandWrittenImages.AnimatedGif(16, 16, (255, 0, 0), (0, 0, 255)));
        Add(
            new BadFileCase("cmyk.jpg", "an Adobe CMYK JPEG of pure red (C=0 M=100% Y=100% K=0, stored inverted)", null)
            {
                ExpectedWidth = 16,
                ExpectedHeight = 16,
                ExpectedColours = [new(0.5f, 0.5f, 255, 0, 0)],
            },
            HandWrittenImages.AdobeCmykJpeg(16, 16, c: 255, m: 0, y: 0, k: 255));
        Add(
            new BadFileCase("sixteen-bit.png", "an RGB PNG with 16 bits per channel", null)
            {
                ExpectedWidth = 8,
                ExpectedHeight = 8,
                ExpectedColours = [new(0.5f, 0.5f, 40, 170, 60)],
            },
            HandWrittenImages.Png16(8, 8, 40 * 257, 170 * 257, 60 * 257));
        Add(
            new BadFileCase("exif-rotated.jpg", "stored 64×48 red|blue with EXIF orientation 6: upright it is 48×64, red on top", null)
            {
                ExpectedWidth = 48,
                ExpectedHeight = 64,
                ExpectedColours = [new(0.5f, 0.25f, 220, 40, 40), new(0.5f, 0.75f, 40, 70, 220)],
            },
            HandWrittenImages.WithExifOrientation(halves, orientation: 6));
        return cases;
    }

    private static IReadOnlyList<ExpectedColour> HalvesColours => [new(0.25f, 0.5f, 220, 40, 40), new(0.75f, 0.5f, 40, 70, 220)];

    private static byte[] EncodeHalves(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint())
        {
            paint.Color = new SKColor(220, 40, 40);
            canvas.DrawRect(0, 0, width / 2f, height, paint);
            paint.Color = new SKColor(40, 70, 220);
            canvas.DrawRect(width / 2f, 0, width / 2f, height, paint);
        }

        using SKData data = bitmap.Encode(format, 95) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format} here.");
        return data.ToArray();
    }
}
