using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace ObjectRetrieval.Core.Representation;

/// <summary>Serialised data that fails its checksum or does not parse: never returned as garbage.</summary>
public sealed class CorruptRepresentationException(string message) : Exception(message);

/// <summary>
/// Versioned, checksummed binary form of <see cref="ImageRepresentation"/>:
/// <c>"ORIR" u16 version | u32 body length | body | u32 CRC-32 of body</c>, little-endian.
/// Several records can follow each other in one stream (segment files).
/// </summary>
public static class RepresentationSerializer
{
    public const ushort CurrentVersion = 1;
    private const uint Magic = 0x5249524F; // "ORIR"
    private const int HeaderSize = 10;
    private const int MaxBodyBytes = 256 << 20;

    public static byte[] Serialize(ImageRepresentation representation)
    {
        using var stream = new MemoryStream();
        Write(stream, representation);
        return stream.ToArray();
    }

    public static ImageRepresentation Deserialize(ReadOnlySpan<byte> data)
    {
        ImageRepresentation result = Read(data, out int consumed);
        if (consumed != data.Length) throw new CorruptRepresentationException($"{data.Length - consumed} unexpected bytes after the record.");
        return result;
    }

    public static void Write(Stream stream, ImageRepresentation r)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(r.ImageId);
            w.Write(r.Dimension);
            w.Write(r.GridWidth);
            w.Write(r.GridHeight);
            w.Write(r.CentroidCount);
            WriteFloats(w, r.Global);
            WriteFloats(w, r.Centroids);
            w.Write(r.ClusterSizes.Length);
            foreach (int size in r.ClusterSizes) w.Write(size);
            w.Write(r.Assignment.Length);
            w.Write(r.Assignment);
            w.Write(r.SourceUri is not null);
            if (r.SourceUri is not null) w.Write(r.SourceUri);
            w.Write(r.Metadata.Count);
            foreach (var (key, value) in r.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.Write(key);
                w.Write(value);
            }

            w.Write(r.DensePatches is not null);
            if (r.DensePatches is not null) WriteFloats(w, r.DensePatches);
        }

        ReadOnlySpan<byte> bodyBytes = body.GetBuffer().AsSpan(0, (int)body.Length);
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], CurrentVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[6..], bodyBytes.Length);
        stream.Write(header);
        stream.Write(bodyBytes);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32.HashToUInt32(bodyBytes));
        stream.Write(crc);
    }

    /// <summary>Reads one record from the start of <paramref name="data"/>; <paramref name="consumed"/> is its length in bytes.</summary>
    public static ImageRepresentation Read(ReadOnlySpan<byte> data, out int consumed)
    {
        if (data.Length < HeaderSize + 4) throw new CorruptRepresentationException($"Record truncated: {data.Length} bytes is shorter than a header.");
        int length = ReadHeader(data);
        if (data.Length < HeaderSize + length + 4) throw new CorruptRepresentationException($"Record truncated: needs {HeaderSize + length + 4} bytes, has {data.Length}.");
        consumed = HeaderSize + length + 4;
        return Parse(VerifyChecksum(data[..consumed]));
    }

    /// <summary>Reads the next record from <paramref name="stream"/>; null at a clean end of the stream (no byte of a further record).</summary>
    public static async ValueTask<ImageRepresentation?> ReadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        await ReadRecordAsync(stream, cancellationToken).ConfigureAwait(false) is { } record ? Parse(BodyOf(record)) : null;

    /// <summary>
    /// Reads the next record from <paramref name="stream"/> as its raw bytes (header, body, checksum), checksum verified;
    /// null at a clean end of the stream. Writing these bytes elsewhere copies the record without serialising it again;
    /// <see cref="Deserialize"/> turns them into the representation.
    /// </summary>
    public static async ValueTask<byte[]?> ReadRecordAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        byte[] header = new byte[HeaderSize];
        int read = await stream.ReadAtLeastAsync(header, HeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0) return null;
        if (read < HeaderSize) throw new CorruptRepresentationException($"Record truncated: {read} bytes is shorter than a header.");
        int length = ReadHeader(header);
        byte[] record = new byte[HeaderSize + length + 4];
        header.CopyTo(record, 0);
        int rest = record.Length - HeaderSize;
        read = await stream.ReadAtLeastAsync(record.AsMemory(HeaderSize), rest, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < rest) throw new CorruptRepresentationException($"Record truncated: needs {record.Length} bytes, has {HeaderSize + read}.");
        VerifyChecksum(record);
        return record;
    }

    /// <summary>Checks magic and version; returns the body length.</summary>
    private static int ReadHeader(ReadOnlySpan<byte> header)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic) throw new CorruptRepresentationException("Not an image representation record (bad magic).");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != CurrentVersion) throw new CorruptRepresentationException($"Unsupported record version {version} (this build reads {CurrentVersion}).");
        int length = BinaryPrimitives.ReadInt32LittleEndian(header[6..]);
        if (length < 0 || length > MaxBodyBytes) throw new CorruptRepresentationException($"Implausible record length {length}.");
        return length;
    }

    /// <summary>The body of a whole record (header, body, checksum) whose header has been checked.</summary>
    private static ReadOnlySpan<byte> BodyOf(ReadOnlySpan<byte> record) => record[HeaderSize..^4];

    /// <summary>The body of a whole record whose header has been checked, after checking it against the record's checksum.</summary>
    private static ReadOnlySpan<byte> VerifyChecksum(ReadOnlySpan<byte> record)
    {
        ReadOnlySpan<byte> body = BodyOf(record);
        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(record[^4..])) throw new CorruptRepresentationException("Checksum mismatch: the record is corrupt.");
        return body;
    }

    private static ImageRepresentation Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            return ParseBody(body.ToArray());
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or OverflowException)
        {
            throw new CorruptRepresentationException($"Record body does not parse: {e.Message}");
        }
    }

    /// <summary>Reads consecutive records until the end of the buffer.</summary>
    public static IEnumerable<ImageRepresentation> ReadAll(byte[] data)
    {
        int offset = 0;
        while (offset < data.Length)
        {
            ImageRepresentation r = Read(data.AsSpan(offset), out int consumed);
            offset += consumed;
            yield return r;
        }
    }

    private static ImageRepresentation ParseBody(byte[] body)
    {
        using var r = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
        string id = r.ReadString();
        int dimension = r.ReadInt32();
        int gridWidth = r.ReadInt32();
        int gridHeight = r.ReadInt32();
        int centroidCount = r.ReadInt32();
        float[] global = ReadFloats(r, body.Length);
        float[] centroids = ReadFloats(r, body.Length);
        int[] sizes = new int[CheckedCount(r.ReadInt32(), body.Length, 4)];
        for (int i = 0; i < sizes.Length; i++) sizes[i] = r.ReadInt32();
        byte[] assignment = r.ReadBytes(CheckedCount(r.ReadInt32(), body.Length, 1));
        string? source = r.ReadBoolean() ? r.ReadString() : null;
        int metadataCount = CheckedCount(r.ReadInt32(), body.Length, 2);
        var metadata = new Dictionary<string, string>(metadataCount);
        for (int i = 0; i < metadataCount; i++) metadata[r.ReadString()] = r.ReadString();
        float[]? dense = r.ReadBoolean() ? ReadFloats(r, body.Length) : null;

        if (dimension <= 0 || global.Length != dimension || centroids.Length != centroidCount * dimension
            || sizes.Length != centroidCount || (dense is not null && dense.Length != assignment.Length * dimension))
        {
            throw new CorruptRepresentationException("Record fields disagree on dimension or counts.");
        }

        return new ImageRepresentation
        {
            ImageId = id,
            Dimension = dimension,
            Global = global,
            Centroids = centroids,
            CentroidCount = centroidCount,
            ClusterSizes = sizes,
            Assignment = assignment,
            GridWidth = gridWidth,
            GridHeight = gridHeight,
            SourceUri = source,
            Metadata = metadata,
            DensePatches = dense,
        };
    }

    private static void WriteFloats(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static float[] ReadFloats(BinaryReader r, int bodyLength)
    {
        int count = CheckedCount(r.ReadInt32(), bodyLength, 4);
        byte[] bytes = r.ReadBytes(count * 4);
        if (bytes.Length != count * 4) throw new EndOfStreamException("float array cut short.");
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    /// <summary>A count that could not fit in the body is corruption, not a reason to allocate.</summary>
    private static int CheckedCount(int count, int bodyLength, int bytesEach)
    {
        if (count < 0 || (long)count * bytesEach > bodyLength) throw new CorruptRepresentationException($"Implausible element count {count}.");
        return count;
    }
}
