using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class FlatVectorIndexTests
{
    private const int Dim = 48;

    private static (FlatVectorIndex Index, float[] Vectors, int[] Counts) Build(VectorCodecKind codec, int images = 300, int seed = 7)
    {
        var random = new Random(seed);
        int[] counts = Enumerable.Range(0, images).Select(_ => random.Next(1, 6)).ToArray();
        float[] vectors = TestVectors.Unit(counts.Sum(), Dim, seed);
        var index = new FlatVectorIndex(Dim, codec);
        int row = 0;
        for (int i = 0; i < images; i++)
        {
            index.Upsert(TestVectors.Id(i), vectors.AsSpan(row * Dim, counts[i] * Dim), counts[i]);
            row += counts[i];
        }

        return (index, vectors, counts);
    }

    [Fact]
    public void Float32_search_equals_brute_force_with_per_image_max_and_ordinal()
    {
        (FlatVectorIndex index, float[] vectors, int[] counts) = Build(VectorCodecKind.Float32);
        float[] queries = TestVectors.Unit(20, Dim, 99);
        for (int q = 0; q < 20; q++)
        {
            ReadOnlySpan<float> query = queries.AsSpan(q * Dim, Dim);
            var expected = TestVectors.BruteForce(vectors, counts, Dim, query, 10);
            IReadOnlyList<SearchHit> hits = index.Search(query, 10);
            Assert.Equal(expected.Select(e => TestVectors.Id(e.Image)), hits.Select(h => h.ImageId));
            Assert.Equal(expected.Select(e => e.Ordinal), hits.Select(h => h.VectorOrdinal));
            for (int i = 0; i < hits.Count; i++) Assert.Equal(expected[i].Score, hits[i].Score, 1e-5f);
        }
    }

    [Theory]
    [InlineData(VectorCodecKind.Int8, 0.9, 0.01f)]
    [InlineData(VectorCodecKind.Float16, 0.97, 0.002f)]
    public void Quantised_codecs_rank_close_to_float32(VectorCodecKind codec, double minOverlap, float maxScoreError)
    {
        (FlatVectorIndex exact, _, _) = Build(VectorCodecKind.Float32);
        (FlatVectorIndex quantised, _, _) = Build(codec);
        float[] queries = TestVectors.Unit(30, Dim, 5);
        int overlap = 0;
        for (int q = 0; q < 30; q++)
        {
            ReadOnlySpan<float> query = queries.AsSpan(q * Dim, Dim);
            IReadOnlyList<SearchHit> truth = exact.Search(query, 10);
            IReadOnlyList<SearchHit> found = quantised.Search(query, 10);
            overlap += found.Select(h => h.ImageId).Intersect(truth.Select(h => h.ImageId)).Count();
            Assert.InRange(Math.Abs(found[0].Score - truth[0].Score), 0f, maxScoreError);
        }

        Assert.True(overlap / 300.0 >= minOverlap, $"top-10 overlap {overlap / 300.0:F3} below {minOverlap}");
    }

    [Fact]
    public void Upsert_replaces_all_vectors_of_an_image_and_is_idempotent()
    {
        var index = new FlatVectorIndex(Dim, VectorCodecKind.Float32);
        float[] v = TestVectors.Unit(4, Dim, 1);
        index.Upsert("a", v.AsSpan(0, 3 * Dim), 3);
        index.Upsert("a", v.AsSpan(3 * Dim, Dim), 1);
        index.Upsert("a", v.AsSpan(3 * Dim, Dim), 1);
        Assert.Equal(1, index.ImageCount);
        Assert.Equal(1, index.VectorCount);

        // A query equal to an old vector must now score against the new one only.
        SearchHit hit = Assert.Single(index.Search(v.AsSpan(0, Dim), 5));
        Assert.Equal(0, hit.VectorOrdinal);
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(v.AsSpan(0, Dim), v.AsSpan(3 * Dim, Dim)), hit.Score, 1e-5f);
    }

    [Fact]
    public void Deleted_images_are_never_returned_also_after_compaction()
    {
        (FlatVectorIndex index, _, int[] counts) = Build(VectorCodecKind.Int8, images: 200);
        var deleted = Enumerable.Range(0, 200).Where(i => i % 3 == 0).Select(TestVectors.Id).ToHashSet();
        foreach (string id in deleted) Assert.True(index.Delete(id));
        Assert.False(index.Delete(TestVectors.Id(0)));
        Assert.False(index.Contains(TestVectors.Id(0)));
        Assert.Equal(200 - deleted.Count, index.ImageCount);

        float[] queries = TestVectors.Unit(10, Dim, 3);
        var before = new List<IReadOnlyList<SearchHit>>();
        for (int q = 0; q < 10; q++)
        {
            IReadOnlyList<SearchHit> hits = index.Search(queries.AsSpan(q * Dim, Dim), 200);
            Assert.Equal(200 - deleted.Count, hits.Count);
            Assert.DoesNotContain(hits, h => deleted.Contains(h.ImageId));
            before.Add(hits);
        }

        long memoryBefore = index.MemoryBytes;
        index.Compact();
        Assert.Equal(0, index.DeadVectorCount);
        Assert.True(index.MemoryBytes < memoryBefore);
        for (int q = 0; q < 10; q++)
        {
            IReadOnlyList<SearchHit> hits = index.Search(queries.AsSpan(q * Dim, Dim), 200);
            Assert.Equal(before[q], hits);
        }

        Assert.Equal(counts.Where((_, i) => i % 3 != 0).Sum(), index.VectorCount);
    }

    [Fact]
    public void K_larger_than_the_index_returns_every_image_and_empty_index_returns_nothing()
    {
        var empty = new FlatVectorIndex(Dim);
        Assert.Empty(empty.Search(TestVectors.Unit(1, Dim, 1), 10));

        (FlatVectorIndex index, _, _) = Build(VectorCodecKind.Int8, images: 12);
        IReadOnlyList<SearchHit> hits = index.Search(TestVectors.Unit(1, Dim, 1), 1000);
        Assert.Equal(12, hits.Count);
        Assert.Equal(12, hits.Select(h => h.ImageId).Distinct().Count());
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [Fact]
    public void Bad_arguments_fail_with_clear_messages()
    {
        var index = new FlatVectorIndex(Dim);
        float[] v = TestVectors.Unit(1, Dim, 1);
        index.Upsert("a", v, 1);

        var k = Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(v, 0));
        Assert.Contains("at least 1", k.Message);
        var dim = Assert.Throws<ArgumentException>(() => index.Search(new float[Dim + 1], 5));
        Assert.Contains($"{Dim}-dimensional", dim.Message);
        Assert.Throws<ArgumentException>(() => index.Upsert("b", new float[Dim * 2 - 1], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Upsert("b", [], 0));

        float[] nan = (float[])v.Clone();
        nan[3] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => index.Search(nan, 5)).Message);
        Assert.Throws<ArgumentException>(() => index.Upsert("b", nan, 1));
    }

    [Fact]
    public void Equal_scores_order_by_image_id()
    {
        var index = new FlatVectorIndex(Dim, VectorCodecKind.Float32);
        float[] v = TestVectors.Unit(1, Dim, 2);
        foreach (string id in new[] { "c", "a", "d", "b" }) index.Upsert(id, v, 1);
        Assert.Equal(["a", "b", "c"], index.Search(v, 3).Select(h => h.ImageId));
    }
}
