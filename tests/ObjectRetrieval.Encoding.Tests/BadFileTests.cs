using ObjectRetrieval.Demo.Files;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Models;
using SkiaSharp;

namespace ObjectRetrieval.Encoding.Tests;

public sealed class BadFileTests : IDisposable
{
    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    private readonly TempDirectory _directory = new();
    private readonly IReadOnlyList<BadFileCase> _cases;
    private readonly ImagePreprocessor _preprocessor = new(64, Mean, Std, ResizeMode.Pad);

    public BadFileTests() => _cases = BadFileCorpus.Write(_directory.Path);

    public static TheoryData<string> CaseNames()
    {
        using var directory = new TempDirectory();
        var data = new TheoryData<string>();
        foreach (BadFileCase item in BadFileCorpus.Write(directory.Path)) data.Add(item.FileName);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_file_gets_its_expected_outcome(string fileName)
    {
        BadFileCase expectation = _cases.Single(c => c.FileName == fileName);
        byte[] bytes = File.ReadAllBytes(expectation.PathIn(_directory.Path));

        if (expectation.ExpectedFailure is { } failure)
        {
            var error = Assert.Throws<ImageDecodeException>(() => _preprocessor.Preprocess(bytes).Dispose());
            Assert.Equal(failure, error.Reason);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            Assert.Equal(failure, Assert.Throws<ImageDecodeException>(() => _preprocessor.DecodeUpright(bytes).Dispose()).Reason);
            return;
        }

        using (PreprocessedImage prepared = _preprocessor.Preprocess(bytes))
        {
            Assert.Equal(expectation.ExpectedWidth, prepared.Width);
            Assert.Equal(expectation.ExpectedHeight, prepared.Height);
        }

        using SKBitmap upright = _preprocessor.DecodeUpright(bytes);
        Assert.Equal(expectation.ExpectedWidth, upright.Width);
        Assert.Equal(expectation.ExpectedHeight, upright.Height);
        foreach (ExpectedColour colour in expectation.ExpectedColours)
        {
            SKColor actual = upright.GetPixel((int)(colour.X * upright.Width), (int)(colour.Y * upright.Height));
            const int Tolerance = 24; // JPEG and WebP are lossy
            Assert.True(
                Math.Abs(actual.Red - colour.R) <= Tolerance && Math.Abs(actual.Green - colour.G) <= Tolerance && Math.Abs(actual.Blue - colour.B) <= Tolerance,
                $"{fileName}: expected ({colour.R},{colour.G},{colour.B}) at ({colour.X},{colour.Y}), got ({actual.Red},{actual.Green},{actual.Blue}).");
        }
    }

    [Fact]
    public void The_bomb_is_refused_from_its_header_without_allocating_pixel_memory()
    {
        byte[] bomb = File.ReadAllBytes(Path.Combine(_directory.Path, BadFileCorpus.BombFileName));
        Assert.Throws<ImageDecodeException>(() => _preprocessor.Preprocess(bomb)); // warm up code paths first

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ImageDecodeException>(() => _preprocessor.Preprocess(bomb));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ImageDecodeFailure.TooManyPixels, error.Reason);
        Assert.Contains("30000×30000", error.Message, StringComparison.Ordinal);
        // Decoding would need 30,000² × 4 bytes = 3.6 GB; the refusal costs a few kilobytes of exception and message.
        Assert.True(allocated < 64 * 1024, $"Refusing the bomb allocated {allocated} bytes.");
    }

    [Fact]
    public void A_file_above_the_byte_limit_is_refused_before_decoding()
    {
        var strict = new ImagePreprocessor(64, Mean, Std, ResizeMode.Pad, new ImageLimits { MaxBytes = 100 });
        byte[] bytes = File.ReadAllBytes(Path.Combine(_directory.Path, "halves.png"));
        Assert.True(bytes.Length > 100);
        Assert.Equal(ImageDecodeFailure.TooLarge, Assert.Throws<ImageDecodeException>(() => strict.Preprocess(bytes)).Reason);
    }

    [Fact]
    public void The_pixel_limit_is_configurable()
    {
        var strict = new ImagePreprocessor(64, Mean, Std, ResizeMode.Pad, new ImageLimits { MaxPixels = 64 * 48 - 1 });
        byte[] bytes = File.ReadAllBytes(Path.Combine(_directory.Path, "halves.png"));
        Assert.Equal(ImageDecodeFailure.TooManyPixels, Assert.Throws<ImageDecodeException>(() => strict.Preprocess(bytes)).Reason);
    }

    public void Dispose() => _directory.Dispose();
}
