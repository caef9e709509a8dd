using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class TopKMergerTests
{
    [Fact]
    public void Merge_equals_sorting_everything()
    {
        var random = new Random(8);
        var shards = Enumerable.Range(0, 64).Select(s =>
            (IReadOnlyList<SearchHit>)Enumerable.Range(0, 50)
                .Select(i => new SearchHit($"s{s}-i{i}", MathF.Round((float)random.NextDouble(), 2), i))
                .OrderByDescending(h => h.Score).ToList()).ToList();
        var expected = shards.SelectMany(s => s).OrderByDescending(h => h.Score).ThenBy(h => h.ImageId, StringComparer.Ordinal).Take(50).ToList();
        Assert.Equal(expected, TopKMerger.Merge(shards, 50));
    }

    [Fact]
    public void Ties_break_by_image_id_and_duplicates_keep_their_best_hit()
    {
        IReadOnlyList<SearchHit>[] shards =
        [
            [new("b", 0.5f, 0), new("x", 0.1f, 0)],
            [new("a", 0.5f, 1), new("x", 0.9f, 3)],
            [],
        ];
        Assert.Equal([new SearchHit("x", 0.9f, 3), new SearchHit("a", 0.5f, 1), new SearchHit("b", 0.5f, 0)], TopKMerger.Merge(shards, 5));
        Assert.Equal([new SearchHit("x", 0.9f, 3), new SearchHit("a", 0.5f, 1)], TopKMerger.Merge(shards, 2));
        Assert.Empty(TopKMerger.Merge([], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKMerger.Merge(shards, 0));
    }
}
