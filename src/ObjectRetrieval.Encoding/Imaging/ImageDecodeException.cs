namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>Why an input could not be turned into model pixels. Ingest records these per image.</summary>
public enum ImageDecodeFailure
{
    /// <summary>Zero bytes.</summary>
    Empty,

    /// <summary>More bytes than <see cref="ImageLimits.MaxBytes"/>.</summary>
    TooLarge,

    /// <summary>The header declares more pixels than <see cref="ImageLimits.MaxPixels"/> (decompression bomb guard).</summary>
    TooManyPixels,

    /// <summary>Not an image format this system reads (no known signature: text, PDF, random bytes).</summary>
    UnknownFormat,

    /// <summary>An image format that is recognised but not accepted (e.g. ICO, HEIF).</summary>
    UnsupportedFormat,

    /// <summary>The data ends before the image does.</summary>
    Truncated,

    /// <summary>The data is damaged or inconsistent.</summary>
    Corrupt,

    /// <summary>The bytes could not be read from their source (I/O error, missing file).</summary>
    Unreadable,
}

/// <summary>An input refused by the decoder, with a typed <see cref="Reason"/>.</summary>
public sealed class ImageDecodeException(ImageDecodeFailure reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ImageDecodeFailure Reason { get; } = reason;
}
