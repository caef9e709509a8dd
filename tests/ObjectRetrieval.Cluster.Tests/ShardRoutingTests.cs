using ObjectRetrieval.Abstractions;

namespace ObjectRetrieval.Cluster.Tests;

public sealed class ShardRoutingTests
{
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
