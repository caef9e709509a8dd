namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>Recognises the accepted formats from their signatures, so that "not an image" and "broken image" are told apart.</summary>
internal static class ImageFormatSniffer
{
    public static string? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return "jpeg";
        if (data.Length >= 8 && data[..8].SequenceEqual(PngSignature)) return "png";
        if (data.Length >= 6 && (data[..6].SequenceEqual("GIF87a"u8) || data[..6].SequenceEqual("GIF89a"u8))) return "gif";
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8)) return "webp";
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M') return "bmp";
        return null;
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
}
