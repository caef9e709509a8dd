using ObjectRetrieval.Shards.Records;

namespace ObjectRetrieval.Shards.Tests;

public sealed class LogFormatTests
{
    private static byte[] Log(params (ShardRecordKind Kind, string Key, byte[] Value)[] records)
    {
        using var log = new MemoryStream();
        foreach ((ShardRecordKind kind, string key, byte[] value) in records) ShardRecordFormat.Write(log, kind, key, value);
        return log.ToArray();
    }

    [Fact]
    public void A_log_reads_back_upserts_and_tombstones_in_order_with_their_offsets()
    {
        byte[] log = Log((ShardRecordKind.Upsert, "a", [1, 2, 3]), (ShardRecordKind.Delete, "a", []));
        LogScan scan = LogScan.Of(log);
        Assert.Equal((-1L, -1L, (long)log.Length), (scan.TornTailAt, scan.CorruptAt, scan.WholeBytes));
        Assert.Equal([ShardRecordKind.Upsert, ShardRecordKind.Delete], scan.Records.Select(r => r.Kind));
        Assert.Equal(["a", "a"], scan.Records.Select(r => r.Key));
        Assert.Equal([1, 2, 3], scan.Records[0].Value.ToArray());
        Assert.Equal([0L, ShardRecordFormat.SizeOf("a", 3)], scan.Records.Select(r => r.Offset));
    }

    [Fact]
    public void A_log_cut_at_every_byte_of_its_last_record_keeps_every_whole_record_and_reports_a_torn_tail()
    {
        byte[] log = Log((ShardRecordKind.Upsert, "first", new byte[40]), (ShardRecordKind.Delete, "second", []), (ShardRecordKind.Upsert, "last", new byte[57]));
        int lastStart = log.Length - ShardRecordFormat.SizeOf("last", 57);
        for (int cut = lastStart; cut < log.Length; cut++)
        {
            LogScan scan = LogScan.Of(log.AsMemory(0, cut));
            Assert.Equal(["first", "second"], scan.Records.Select(r => r.Key));
            Assert.Equal(cut == lastStart ? -1 : lastStart, scan.TornTailAt);
            Assert.Equal(-1, scan.CorruptAt);
        }
    }

    [Fact]
    public void A_flipped_byte_followed_by_whole_records_is_corruption_at_the_damaged_record()
    {
        byte[] log = Log((ShardRecordKind.Upsert, "a", new byte[30]), (ShardRecordKind.Upsert, "b", new byte[30]), (ShardRecordKind.Upsert, "c", new byte[30]));
        int second = ShardRecordFormat.SizeOf("a", 30);
        for (int flip = second; flip < second + ShardRecordFormat.SizeOf("b", 30); flip++)
        {
            byte[] damaged = log.ToArray();
            damaged[flip] ^= 0x40;
            LogScan scan = LogScan.Of(damaged);
            Assert.Equal(second, scan.CorruptAt);
            Assert.Equal(-1, scan.TornTailAt);
            Assert.Equal(["a"], scan.Records.Select(r => r.Key));
        }
    }

    [Fact]
    public void A_flipped_byte_in_the_last_record_cannot_be_told_from_a_torn_tail_and_loses_only_that_record()
    {
        byte[] log = Log((ShardRecordKind.Upsert, "a", new byte[30]), (ShardRecordKind.Upsert, "b", new byte[30]));
        log[^3] ^= 0x01;
        LogScan scan = LogScan.Of(log);
        Assert.Equal(ShardRecordFormat.SizeOf("a", 30), scan.TornTailAt);
        Assert.Equal(["a"], scan.Records.Select(r => r.Key));
    }
}
