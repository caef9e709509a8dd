using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace ObjectRetrieval.Shards.Records;

public enum ShardRecordKind : byte
{
    /// <summary>Key: the image id; value: the core's representation record.</summary>
    Upsert = 1,

    /// <summary>Key: the image id; no value (a tombstone).</summary>
    Delete = 2,

    /// <summary>The last record of a segment; value: the count of records before it. A segment without it is cut short.</summary>
    SegmentEnd = 3,
}

/// <summary>One record of a log or segment, with its offset in the file (for error messages and quarantine).</summary>
public readonly record struct ShardRecord(ShardRecordKind Kind, string Key, ReadOnlyMemory<byte> Value, long Offset);

/// <summary>
/// The one framing of logs and segments: <c>i32 body length | body | u32 CRC-32 of body</c>, little-endian, where the
/// body is <c>u8 kind | u16 key length | key (UTF-8) | value</c>. The key leads so that compaction and quarantine can
/// name a record without parsing its value.
/// </summary>
public static class ShardRecordFormat
{
    public const int Overhead = 4 + 4;
    private const int BodyHeader = 1 + 2;

    // Larger than any record a shard accepts; a length field beyond it is damage, not data.
    public const int MaxBodyBytes = 256 << 20;

    public static int SizeOf(string key, int valueLength) => Overhead + BodyHeader + Encoding.UTF8.GetByteCount(key) + valueLength;

    public static void Write(Stream output, ShardRecordKind kind, string key, ReadOnlySpan<byte> value) => output.Write(Frame(kind, key, value));

    public static ValueTask WriteAsync(Stream output, ShardRecordKind kind, string key, ReadOnlySpan<byte> value, CancellationToken cancellationToken) =>
        output.WriteAsync(Frame(kind, key, value), cancellationToken);

    /// <summary>The whole record as bytes.</summary>
    public static byte[] Frame(ShardRecordKind kind, string key, ReadOnlySpan<byte> value)
    {
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes > ushort.MaxValue) throw new ArgumentException($"Image id of {keyBytes} bytes is longer than {ushort.MaxValue}.", nameof(key));
        int bodyLength = BodyHeader + keyBytes + value.Length;
        byte[] frame = new byte[Overhead + bodyLength];
        BinaryPrimitives.WriteInt32LittleEndian(frame, bodyLength);
        frame[4] = (byte)kind;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(5), (ushort)keyBytes);
        Encoding.UTF8.GetBytes(key, frame.AsSpan(7));
        value.CopyTo(frame.AsSpan(7 + keyBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4 + bodyLength), Crc32.HashToUInt32(frame.AsSpan(4, bodyLength)));
        return frame;
    }

    public static ValueTask WriteSegmentEndAsync(Stream output, long records, CancellationToken cancellationToken)
    {
        byte[] count = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, records);
        return WriteAsync(output, ShardRecordKind.SegmentEnd, string.Empty, count, cancellationToken);
    }

    /// <summary>The whole record at <paramref name="offset"/>, or null when the bytes there are not one (cut short, damaged, unknown kind).</summary>
    public static ShardRecord? TryRead(ReadOnlyMemory<byte> data, int offset)
    {
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length - offset < Overhead + BodyHeader) return null;
        int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
        if (bodyLength < BodyHeader || bodyLength > MaxBodyBytes || bodyLength > span.Length - offset - Overhead) return null;
        ReadOnlySpan<byte> body = span.Slice(offset + 4, bodyLength);
        if (body[0] is < (byte)ShardRecordKind.Upsert or > (byte)ShardRecordKind.SegmentEnd) return null;
        int keyBytes = BinaryPrimitives.ReadUInt16LittleEndian(body[1..]);
        if (BodyHeader + keyBytes > bodyLength) return null;
        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(span[(offset + 4 + bodyLength)..])) return null;
        string key;
        try
        {
            key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body.Slice(BodyHeader, keyBytes));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        return new ShardRecord((ShardRecordKind)body[0], key, data.Slice(offset + 4 + BodyHeader + keyBytes, bodyLength - BodyHeader - keyBytes), offset);
    }

    /// <summary>The length of the whole record at the start of <paramref name="record"/>'s offset.</summary>
    public static int LengthAt(ReadOnlySpan<byte> data, int offset) => Overhead + BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);

    public static long SegmentEndCount(ShardRecord end) => BinaryPrimitives.ReadInt64LittleEndian(end.Value.Span);
}
