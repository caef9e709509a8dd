using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace ObjectRetrieval.Grains.Storage;

/// <summary>One write-ahead log entry: an upsert (a representation record) or a tombstone.</summary>
public readonly record struct ShardLogEntry(ShardLogEntryKind Kind, string ImageId, ReadOnlyMemory<byte> Representation);

public enum ShardLogEntryKind : byte
{
    Upsert = 1,
    Delete = 2,
}

/// <summary>
/// Log framing: <c>u32 payload length | u8 kind | payload | u32 CRC-32 of kind and payload</c>, little-endian.
/// An upsert's payload is the core's representation record; a delete's is the image id in UTF-8.
/// </summary>
public static class ShardLog
{
    private const int Overhead = 4 + 1 + 4;

    public static void AppendUpsert(MemoryStream log, ReadOnlySpan<byte> representation) =>
        Append(log, ShardLogEntryKind.Upsert, representation);

    public static void AppendDelete(MemoryStream log, string imageId) =>
        Append(log, ShardLogEntryKind.Delete, Encoding.UTF8.GetBytes(imageId));

    private static void Append(MemoryStream log, ShardLogEntryKind kind, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[5];
        BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
        header[4] = (byte)kind;
        var crc = new Crc32();
        crc.Append(header[4..]);
        crc.Append(payload);
        log.Write(header);
        log.Write(payload);
        Span<byte> checksum = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(checksum, crc.GetCurrentHashAsUInt32());
        log.Write(checksum);
    }

    /// <summary>
    /// The entries of a log in order. Reading stops at the first record that is cut short or fails its
    /// checksum (a crash mid-append); <paramref name="tornAt"/> is its offset, or -1 when the log is whole.
    /// </summary>
    public static List<ShardLogEntry> Read(ReadOnlyMemory<byte> log, out long tornAt)
    {
        var entries = new List<ShardLogEntry>();
        int offset = 0;
        tornAt = -1;
        ReadOnlySpan<byte> span = log.Span;
        while (offset < span.Length)
        {
            if (span.Length - offset < Overhead) { tornAt = offset; break; }
            int length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
            if (length < 0 || length > span.Length - offset - Overhead) { tornAt = offset; break; }
            ReadOnlySpan<byte> kindAndPayload = span.Slice(offset + 4, 1 + length);
            uint expected = BinaryPrimitives.ReadUInt32LittleEndian(span[(offset + 5 + length)..]);
            var kind = (ShardLogEntryKind)kindAndPayload[0];
            if (Crc32.HashToUInt32(kindAndPayload) != expected || kind is not (ShardLogEntryKind.Upsert or ShardLogEntryKind.Delete))
            {
                tornAt = offset;
                break;
            }

            ReadOnlyMemory<byte> payload = log.Slice(offset + 5, length);
            entries.Add(kind == ShardLogEntryKind.Delete
                ? new ShardLogEntry(kind, Encoding.UTF8.GetString(payload.Span), default)
                : new ShardLogEntry(kind, string.Empty, payload));
            offset += Overhead + length;
        }

        return entries;
    }
}
