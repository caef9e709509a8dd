using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Tests.Aggregation;

public sealed class SphericalKMeansTests
{
    private static readonly SphericalKMeans KMeans8 = new(new AggregationOptions { Clusters = 8 });

    [Fact]
    public void Recovers_well_separated_groups_with_one_centroid_each()
    {
        var random = new DeterministicRandom(1);
        float[][] directions = Enumerable.Range(0, 4).Select(_ => TestVectors.RandomUnit(random, 32)).ToArray();
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 4).ToArray();
        var patches = TestVectors.Grouped(directions, labels, 0.1, 2, gridWidth: 8);

        AggregatedImage result = new SphericalKMeans(new AggregationOptions { Clusters = 4 }).Aggregate("img", patches);

        Assert.Equal(4, result.Count);
        Assert.All(result.Sizes, s => Assert.Equal(16, s));
        for (int g = 0; g < 4; g++)
        {
            float best = Enumerable.Range(0, 4).Max(c => VectorMath.Dot(result.Vector(c), directions[g]));
            Assert.True(best > 0.99f, $"group {g} best cosine {best}");
        }
    }

    [Fact]
    public void Output_is_consistent_normalised_and_deterministic_per_image_id()
    {
        var random = new DeterministicRandom(3);
        float[][] directions = Enumerable.Range(0, 6).Select(_ => TestVectors.RandomUnit(random, 48)).ToArray();
        int[] labels = Enumerable.Range(0, 196).Select(i => (i * 7) % 6).ToArray();
        var patches = TestVectors.Grouped(directions, labels, 0.8, 4, gridWidth: 14);

        AggregatedImage a = KMeans8.Aggregate("image-42", patches);
        AggregatedImage b = KMeans8.Aggregate("image-42", patches);

        Assert.Equal(a.Vectors, b.Vectors);
        Assert.Equal(a.Assignment, b.Assignment);
        Assert.Equal(196, a.Sizes.Sum());
        Assert.Equal(196, a.Assignment.Length);
        for (int c = 0; c < a.Count; c++) Assert.Equal(1f, VectorMath.Norm(a.Vector(c)), 4);

        // Every patch sits with its most similar centroid, and the sizes count those patches.
        int[] counted = new int[a.Count];
        for (int i = 0; i < 196; i++)
        {
            int assigned = a.Assignment[i];
            counted[assigned]++;
            float own = VectorMath.Dot(patches.Patch(i), a.Vector(assigned));
            for (int c = 0; c < a.Count; c++) Assert.True(VectorMath.Dot(patches.Patch(i), a.Vector(c)) <= own + 1e-5f);
        }

        Assert.Equal(counted, a.Sizes);
    }

    [Fact]
    public void Seeding_depends_on_the_image_id()
    {
        var random = new DeterministicRandom(5);
        float[][] directions = Enumerable.Range(0, 30).Select(_ => TestVectors.RandomUnit(random, 16)).ToArray();
        var patches = TestVectors.Grouped(directions, Enumerable.Range(0, 30).ToArray(), 0.5, 6);
        var kmeans = new SphericalKMeans(new AggregationOptions { Clusters = 3, MaxIterations = 0 });
        var distinct = Enumerable.Range(0, 8).Select(i => string.Join(",", kmeans.Aggregate($"id-{i}", patches).Assignment)).Distinct().Count();
        Assert.True(distinct > 1);
    }

    [Fact]
    public void One_patch_gives_one_centroid_equal_to_it()
    {
        var patches = new DenseEmbeddings([3, 4], 1, 2, [3, 4], 1, 1).Normalized();
        AggregatedImage result = KMeans8.Aggregate("single", patches);
        Assert.Equal(1, result.Count);
        Assert.Equal([0.6f, 0.8f], result.Vectors);
        Assert.Equal([1], result.Sizes);
        Assert.Equal([(byte)0], result.Assignment);
    }

    [Fact]
    public void K_larger_than_the_number_of_patches_gives_one_centroid_per_patch()
    {
        var random = new DeterministicRandom(7);
        float[][] directions = Enumerable.Range(0, 5).Select(_ => TestVectors.RandomUnit(random, 16)).ToArray();
        var patches = TestVectors.Grouped(directions, [0, 1, 2, 3, 4], 0.0, 8);
        AggregatedImage result = new SphericalKMeans(new AggregationOptions { Clusters = 50 }).Aggregate("few", patches);
        Assert.Equal(5, result.Count);
        Assert.All(result.Sizes, s => Assert.Equal(1, s));
        Assert.Equal(5, result.Assignment.Distinct().Count());
    }

    [Fact]
    public void Identical_patches_collapse_to_a_single_centroid()
    {
        float[] patches = Enumerable.Repeat(new float[] { 1, 2, 3, 4 }, 100).SelectMany(v => v).ToArray();
        var dense = new DenseEmbeddings(patches, 100, 4, [1, 2, 3, 4], 10, 10).Normalized();
        AggregatedImage result = KMeans8.Aggregate("same", dense);
        Assert.Equal(1, result.Count);
        Assert.Equal([100], result.Sizes);
        Assert.All(result.Assignment, a => Assert.Equal(0, a));
    }

    [Fact]
    public void Zero_vectors_do_not_produce_NaN_centroids()
    {
        float[] patches = new float[10 * 4];
        patches[0] = 1; // one real patch among nine zero vectors
        var dense = new DenseEmbeddings(patches, 10, 4, [1, 0, 0, 0], 10, 1).Normalized();
        AggregatedImage result = KMeans8.Aggregate("zeros", dense);
        Assert.All(result.Vectors, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(10, result.Sizes.Sum());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Invalid_K_is_refused_with_a_clear_message(int k)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SphericalKMeans(new AggregationOptions { Clusters = k }));
        Assert.Contains("between 1 and 255", e.Message);
    }
}
