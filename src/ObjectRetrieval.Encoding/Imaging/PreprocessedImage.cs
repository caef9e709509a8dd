using System.Buffers;

namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>
/// Model-ready pixels of one image: <see cref="ViewCount"/> views (the whole image first, then any
/// tiles), each 3 × Size × Size floats in CHW order, mean/std normalised. The buffer is rented from
/// the shared pool; dispose to return it.
/// </summary>
public sealed class PreprocessedImage : IDisposable
{
    private float[]? _pixels;

    internal PreprocessedImage(float[] pixels, int viewCount, int size, int width, int height, WholeImageLayout? layout = null)
    {
        Layout = layout;
        _pixels = pixels;
        ViewCount = viewCount;
        Size = size;
        Width = width;
        Height = height;
    }

    public int ViewCount { get; }

    /// <summary>How the first views cover the whole image; null when the first view alone is the image (the model's resize).</summary>
    public WholeImageLayout? Layout { get; }

    /// <summary>Side of each view in pixels (the model input size).</summary>
    public int Size { get; }

    /// <summary>Width of the source image after EXIF orientation, before resizing.</summary>
    public int Width { get; }

    /// <summary>Height of the source image after EXIF orientation, before resizing.</summary>
    public int Height { get; }

    public int ValuesPerView => 3 * Size * Size;

    /// <summary>All views, contiguous (ViewCount × 3 × Size × Size).</summary>
    public ReadOnlySpan<float> Pixels => (_pixels ?? throw new ObjectDisposedException(nameof(PreprocessedImage))).AsSpan(0, ViewCount * ValuesPerView);

    public ReadOnlySpan<float> View(int index) => Pixels.Slice(index * ValuesPerView, ValuesPerView);

    /// <summary>Normalised value of channel <paramref name="channel"/> at (x, y) of view <paramref name="view"/>.</summary>
    public float At(int view, int channel, int x, int y) => Pixels[(view * 3 + channel) * Size * Size + y * Size + x];

    public void Dispose()
    {
        float[]? pixels = Interlocked.Exchange(ref _pixels, null);
        if (pixels is not null) ArrayPool<float>.Shared.Return(pixels);
    }
}
