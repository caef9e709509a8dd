using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Shards;

/// <summary>
/// What a shard keeps in memory about one image beside its codes in the vector indexes: where it came from,
/// its metadata, and the patch → cluster map that draws a matched cluster's region. No vectors: the full
/// representation lives in the shard's segments and log.
/// </summary>
public sealed class ShardImage
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    // Object header, three references and three ints, rounded up (64-bit runtime).
    private const int ObjectBytes = 56;
    private const int ArrayHeaderBytes = 24;

    // Keys and values alternate; null when there are none. A dictionary per image costs more than its strings.
    private readonly string[]? _metadata;

    private ShardImage(string? sourceUri, string[]? metadata, int gridWidth, int gridHeight, int centroidCount, byte[] assignment)
    {
        SourceUri = sourceUri;
        _metadata = metadata;
        GridWidth = gridWidth;
        GridHeight = gridHeight;
        CentroidCount = centroidCount;
        Assignment = assignment;
    }

    public string? SourceUri { get; }

    public int GridWidth { get; }

    public int GridHeight { get; }

    public int CentroidCount { get; }

    /// <summary>Cluster index per patch, as in <see cref="ImageRepresentation.Assignment"/> (the same array, not a copy).</summary>
    public byte[] Assignment { get; }

    public IReadOnlyDictionary<string, string> Metadata
    {
        get
        {
            if (_metadata is null) return NoMetadata;
            var metadata = new Dictionary<string, string>(_metadata.Length / 2, StringComparer.Ordinal);
            for (int i = 0; i < _metadata.Length; i += 2) metadata[_metadata[i]] = _metadata[i + 1];
            return metadata;
        }
    }

    /// <summary>An estimate of the managed bytes this record holds; the image id is shared with, and counted by, the vector indexes.</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = ObjectBytes + ArrayHeaderBytes + RoundUp(Assignment.Length) + StringBytes(SourceUri);
            if (_metadata is not null)
            {
                bytes += ArrayHeaderBytes + (long)IntPtr.Size * _metadata.Length;
                foreach (string text in _metadata) bytes += StringBytes(text);
            }

            return bytes;
        }
    }

    public static ShardImage From(ImageRepresentation image)
    {
        string[]? metadata = null;
        if (image.Metadata.Count > 0)
        {
            metadata = new string[image.Metadata.Count * 2];
            int i = 0;
            foreach ((string key, string value) in image.Metadata)
            {
                metadata[i++] = key;
                metadata[i++] = value;
            }
        }

        return new ShardImage(image.SourceUri, metadata, image.GridWidth, image.GridHeight, image.CentroidCount, image.Assignment);
    }

    /// <summary>The matched cluster's patches, one byte (0 or 1) per cell, row-major on the whole-image grid (tile patches, if any, follow the grid and are left out).</summary>
    public byte[] RegionOf(int cluster)
    {
        int cells = Math.Min(GridWidth * GridHeight, Assignment.Length);
        var mask = new byte[cells];
        for (int i = 0; i < cells; i++) mask[i] = Assignment[i] == cluster ? (byte)1 : (byte)0;
        return mask;
    }

    /// <summary>Same convention as the vector indexes' id table.</summary>
    internal static long StringBytes(string? text) => text is null ? 0 : 22 + 2L * text.Length;

    private static long RoundUp(int bytes) => (bytes + 7L) & ~7L;
}
