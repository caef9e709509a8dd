using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Grains.Storage;

namespace ObjectRetrieval.Cluster.Tests;

public sealed class ShardLogTests
{
    [Fact]
    public void Log_reads_back_upserts_and_tombstones_in_order()
    {
        using var log = new MemoryStream();
        byte[] record = EncodedImage.From(TestData.Image("a", 1)).Representation;
        ShardLog.AppendUpsert(log, record);
        ShardLog.AppendDelete(log, "a");
        List<ShardLogEntry> entries = ShardLog.Read(log.ToArray(), out long tornAt);
        Assert.Equal(-1, tornAt);
        Assert.Equal([ShardLogEntryKind.Upsert, ShardLogEntryKind.Delete], entries.Select(e => e.Kind));
        Assert.Equal(record, entries[0].Representation.ToArray());
        Assert.Equal("a", entries[1].ImageId);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    public void A_log_cut_short_keeps_its_whole_records_and_reports_where_it_tore(int cut)
    {
        using var log = new MemoryStream();
        ShardLog.AppendDelete(log, "first");
        long whole = log.Length;
        ShardLog.AppendUpsert(log, EncodedImage.From(TestData.Image("b", 2)).Representation);
        byte[] torn = log.ToArray()[..^cut];
        List<ShardLogEntry> entries = ShardLog.Read(torn, out long tornAt);
        Assert.Single(entries);
        Assert.Equal(whole, tornAt);
    }

    [Fact]
    public void A_flipped_bit_is_caught_by_the_checksum()
    {
        using var log = new MemoryStream();
        ShardLog.AppendDelete(log, "some-image");
        byte[] bytes = log.ToArray();
        bytes[7] ^= 0x10;
        Assert.Empty(ShardLog.Read(bytes, out long tornAt));
        Assert.Equal(0, tornAt);
    }

    [Fact]
    public void Jump_hash_is_stable_balanced_and_moves_few_images_when_shards_grow()
    {
        Assert.Equal(ShardRouting.ShardOf("img-42", 64), ShardRouting.ShardOf("img-42", 64));
        string[] ids = Enumerable.Range(0, 20_000).Select(i => $"image-{i}").ToArray();
        int[] counts = new int[16];
        foreach (string id in ids) counts[ShardRouting.ShardOf(id, 16)]++;
        Assert.All(counts, c => Assert.InRange(c, 20_000 / 16 * 0.85, 20_000 / 16 * 1.15));
        int moved = ids.Count(id => ShardRouting.ShardOf(id, 16) != ShardRouting.ShardOf(id, 17));
        Assert.InRange(moved, 20_000 / 17 * 0.8, 20_000 / 17 * 1.2);
        Assert.Equal(("idx", 17), ShardRouting.ParseShardKey(ShardRouting.ShardKey("idx", 17)));
    }
}
