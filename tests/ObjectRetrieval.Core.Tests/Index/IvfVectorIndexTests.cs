using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class IvfVectorIndexTests
{
    private const int Dim = 64;
    private const int Count = 6000;

    private static readonly ClusteredVectorGenerator Generator = new(Dim, centreCount: 150, cosine: 0.75f, seed: 17);

    private static IvfVectorIndex BuildTrained(float[] vectors, int lists = 64, int seed = 1)
    {
        var index = new IvfVectorIndex(Dim, VectorCodecKind.Int8, new IvfOptions { ListCount = lists, Seed = seed });
        for (int i = 0; i < Count; i++) index.Upsert(TestVectors.Id(i), vectors.AsSpan(i * Dim, Dim), 1);
        index.Train();
        return index;
    }

    [Fact]
    public void Recall_against_exact_is_high_on_clustered_data()
    {
        float[] vectors = Generator.Generate(Count, ClusteredVectorGenerator.BaseStream);
        float[] queries = Generator.Generate(100, ClusteredVectorGenerator.QueryStream);
        IvfVectorIndex index = BuildTrained(vectors);
        Assert.True(index.IsTrained);
        Assert.Equal(64, index.ListCount);

        int[] truth = ExactNeighbours.Compute(vectors, Count, queries, 100, Dim, 10);
        int[] found = new int[100 * 10];
        for (int q = 0; q < 100; q++)
        {
            IReadOnlyList<SearchHit> hits = index.Search(queries.AsSpan(q * Dim, Dim), 10, new SearchOptions(NProbe: 8));
            for (int i = 0; i < 10; i++) found[q * 10 + i] = i < hits.Count ? int.Parse(hits[i].ImageId[4..]) : -1;
        }

        double recall = ExactNeighbours.Recall(truth, 10, found, 10, 100, 10);
        Assert.True(recall >= 0.9, $"recall@10 {recall:F3} below 0.9");
    }

    [Fact]
    public void Probing_every_list_equals_the_exact_int8_scan()
    {
        float[] vectors = Generator.Generate(Count, ClusteredVectorGenerator.BaseStream);
        IvfVectorIndex ivf = BuildTrained(vectors, lists: 32);
        var flat = new FlatVectorIndex(Dim, VectorCodecKind.Int8);
        for (int i = 0; i < Count; i++) flat.Upsert(TestVectors.Id(i), vectors.AsSpan(i * Dim, Dim), 1);
        float[] queries = Generator.Generate(20, ClusteredVectorGenerator.QueryStream);
        for (int q = 0; q < 20; q++)
        {
            ReadOnlySpan<float> query = queries.AsSpan(q * Dim, Dim);
            Assert.Equal(flat.Search(query, 15), ivf.Search(query, 15, new SearchOptions(NProbe: 32)));
        }
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        float[] vectors = Generator.Generate(Count, ClusteredVectorGenerator.BaseStream);
        Assert.Equal(BuildTrained(vectors, seed: 5).ListSizes(), BuildTrained(vectors, seed: 5).ListSizes());
    }

    [Fact]
    public void Multi_vector_images_upserts_deletes_and_compaction_after_training()
    {
        float[] vectors = Generator.Generate(Count, ClusteredVectorGenerator.BaseStream);
        IvfVectorIndex index = BuildTrained(vectors, lists: 16);

        // An image added after training with three vectors: a query equal to its third vector finds it with ordinal 2.
        float[] extra = Generator.Generate(3, 7);
        index.Upsert("multi", extra, 3);
        SearchHit top = index.Search(extra.AsSpan(2 * Dim, Dim), 1, new SearchOptions(NProbe: 4))[0];
        Assert.Equal(("multi", 2), (top.ImageId, top.VectorOrdinal));
        Assert.Equal(1f, top.Score, 0.01f);

        // Replacing it drops the old vectors; deleting hides it.
        index.Upsert("multi", extra.AsSpan(0, Dim), 1);
        Assert.NotEqual("multi", index.Search(extra.AsSpan(2 * Dim, Dim), 1, new SearchOptions(NProbe: 16))[0].ImageId);
        Assert.True(index.Delete("multi"));
        var deleted = new HashSet<string> { "multi" };
        for (int i = 0; i < Count; i += 2)
        {
            index.Delete(TestVectors.Id(i));
            deleted.Add(TestVectors.Id(i));
        }

        float[] queries = Generator.Generate(10, ClusteredVectorGenerator.QueryStream);
        var before = new List<IReadOnlyList<SearchHit>>();
        for (int q = 0; q < 10; q++)
        {
            IReadOnlyList<SearchHit> hits = index.Search(queries.AsSpan(q * Dim, Dim), 50, new SearchOptions(NProbe: 16));
            Assert.DoesNotContain(hits, h => deleted.Contains(h.ImageId));
            before.Add(hits);
        }

        index.Compact();
        Assert.Equal(0, index.DeadVectorCount);
        Assert.Equal(Count / 2, index.VectorCount);
        for (int q = 0; q < 10; q++)
        {
            Assert.Equal(before[q], index.Search(queries.AsSpan(q * Dim, Dim), 50, new SearchOptions(NProbe: 16)));
        }
    }

    [Fact]
    public void Untrained_index_searches_exactly_and_reports_520_bytes_per_vector_at_512_dimensions()
    {
        var index = new IvfVectorIndex(Dim);
        Assert.Empty(index.Search(new float[Dim], 3));
        float[] vectors = Generator.Generate(50, 0);
        for (int i = 0; i < 50; i++) index.Upsert(TestVectors.Id(i), vectors.AsSpan(i * Dim, Dim), 1);
        Assert.Equal(TestVectors.Id(7), index.Search(vectors.AsSpan(7 * Dim, Dim), 1)[0].ImageId);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(vectors.AsSpan(0, Dim), 1, new SearchOptions(NProbe: 0)));
        Assert.Equal(520, new IvfVectorIndex(512).CodeBytesPerVector);
        Assert.Throws<InvalidOperationException>(() => new IvfVectorIndex(Dim).Train());
    }
}
