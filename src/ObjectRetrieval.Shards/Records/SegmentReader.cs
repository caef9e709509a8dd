using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ObjectRetrieval.Shards.Records;

/// <summary>Streams a segment's records; any damage, or a missing end record, is corruption (segments are written whole).</summary>
public static class SegmentReader
{
    public static async IAsyncEnumerable<ShardRecord> ReadAsync(Stream segment, string file, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        byte[] lengthBytes = new byte[4];
        long offset = 0;
        long records = 0;
        while (true)
        {
            int read = await segment.ReadAtLeastAsync(lengthBytes, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new ShardCorruptException(file, offset, "the segment ends without its end record.");
            if (read < 4) throw new ShardCorruptException(file, offset, "the segment is cut short inside a record header.");
            int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
            if (bodyLength < 3 || bodyLength > ShardRecordFormat.MaxBodyBytes) throw new ShardCorruptException(file, offset, $"implausible record length {bodyLength}.");
            byte[] frame = new byte[ShardRecordFormat.Overhead + bodyLength];
            lengthBytes.CopyTo(frame, 0);
            read = await segment.ReadAtLeastAsync(frame.AsMemory(4), frame.Length - 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < frame.Length - 4) throw new ShardCorruptException(file, offset, "the segment is cut short inside a record.");
            if (ShardRecordFormat.TryRead(frame, 0) is not { } record) throw new ShardCorruptException(file, offset, "a record fails its checksum.");
            if (record.Kind == ShardRecordKind.SegmentEnd)
            {
                long expected = ShardRecordFormat.SegmentEndCount(record);
                if (expected != records) throw new ShardCorruptException(file, offset, $"the end record counts {expected} records; {records} precede it.");
                if (await segment.ReadAsync(lengthBytes.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
                {
                    throw new ShardCorruptException(file, offset + frame.Length, "bytes follow the end record.");
                }

                yield break;
            }

            yield return record with { Offset = offset };
            offset += frame.Length;
            records++;
        }
    }
}
