namespace ObjectRetrieval.Shards.Records;

/// <summary>
/// A log read back: its whole records in order, and what follows them. An append cut short by a crash leaves a
/// record that does not check out at the very end: a <see cref="TornTailAt"/>, never acknowledged, safe to leave
/// behind. A record that does not check out with a whole record somewhere after it is damage to acknowledged data:
/// <see cref="CorruptAt"/>, and the log must not be replayed past it.
/// </summary>
public sealed class LogScan
{
    private LogScan(List<ShardRecord> records, long wholeBytes, long tornTailAt, long corruptAt)
    {
        Records = records;
        WholeBytes = wholeBytes;
        TornTailAt = tornTailAt;
        CorruptAt = corruptAt;
    }

    public IReadOnlyList<ShardRecord> Records { get; }

    /// <summary>Bytes of the whole records before any damage.</summary>
    public long WholeBytes { get; }

    /// <summary>Offset of a record cut short at the end of the log, or -1.</summary>
    public long TornTailAt { get; }

    /// <summary>Offset of a damaged record that whole records follow, or -1.</summary>
    public long CorruptAt { get; }

    public static LogScan Of(ReadOnlyMemory<byte> log)
    {
        var records = new List<ShardRecord>();
        int offset = 0;
        while (offset < log.Length)
        {
            if (ShardRecordFormat.TryRead(log, offset) is not { } record) break;
            if (record.Kind == ShardRecordKind.SegmentEnd) break;
            records.Add(record);
            offset += ShardRecordFormat.LengthAt(log.Span, offset);
        }

        if (offset == log.Length) return new LogScan(records, offset, -1, -1);

        // Anything after the damage that reads as a whole record means the damage is not a torn tail.
        for (int later = offset + 1; later < log.Length; later++)
        {
            if (ShardRecordFormat.TryRead(log, later) is { Kind: not ShardRecordKind.SegmentEnd }) return new LogScan(records, offset, -1, offset);
        }

        return new LogScan(records, offset, offset, -1);
    }
}
