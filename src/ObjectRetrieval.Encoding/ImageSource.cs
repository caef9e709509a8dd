using ObjectRetrieval.Encoding.Imaging;

namespace ObjectRetrieval.Encoding;

/// <summary>
/// One image to encode: its id, where its bytes come from, and what to store with it. The bytes are
/// loaded by the encoder's decode stage, so reading files or blobs overlaps inference.
/// </summary>
public sealed record ImageSource
{
    public ImageSource(string imageId, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> load)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageId);
        ImageId = imageId;
        Load = load;
    }

    public string ImageId { get; }

    /// <summary>Produces the encoded bytes; exceptions other than cancellation are reported as <see cref="ImageDecodeFailure.Unreadable"/>.</summary>
    public Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> Load { get; }

    public string? SourceUri { get; init; }

    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public static ImageSource FromBytes(string imageId, ReadOnlyMemory<byte> bytes) => new(imageId, _ => ValueTask.FromResult(bytes));

    /// <summary>A file read when the decode stage reaches it; files above <paramref name="maxBytes"/> are refused before reading.</summary>
    public static ImageSource FromFile(string path, string? imageId = null, long maxBytes = 64L * 1024 * 1024) =>
        new(imageId ?? Path.GetFileNameWithoutExtension(path), async ct =>
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > maxBytes)
            {
                throw new ImageDecodeException(ImageDecodeFailure.TooLarge, $"'{info.Name}' has {info.Length} bytes; the limit is {maxBytes}.");
            }

            return await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        })
        {
            SourceUri = path,
        };
}
