using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Tests.Aggregation;

/// <summary>Properties every aggregation strategy must have, on patch sets whose right answer is known.</summary>
public sealed class StrategyTests
{
    public static TheoryData<AggregationStrategy> AllStrategies => new(Enum.GetValues<AggregationStrategy>());

    public static TheoryData<AggregationStrategy> CoveringStrategies => new(AggregationStrategy.KCenter, AggregationStrategy.Hybrid, AggregationStrategy.Cover);

    private static IAggregator Create(AggregationStrategy strategy, int k, bool guard = false) =>
        new AggregationOptions { Strategy = strategy, Clusters = k, ExcludeNormOutliers = guard, MergeThreshold = null }.CreateAggregator();

    /// <summary>255 noisy patches of one background and one odd patch at <paramref name="oddIndex"/>.</summary>
    private static DenseEmbeddings OneOddPatch(int oddIndex, ulong seed, double noise = 0.3)
    {
        var random = new DeterministicRandom(seed);
        float[][] directions = [TestVectors.RandomUnit(random, 64), TestVectors.RandomUnit(random, 64)];
        int[] labels = new int[256];
        labels[oddIndex] = 1;
        return TestVectors.Grouped(directions, labels, noise, seed + 1, gridWidth: 16);
    }

    [Theory]
    [MemberData(nameof(CoveringStrategies))]
    public void A_single_odd_patch_among_255_alike_is_kept_as_its_own_vector(AggregationStrategy strategy)
    {
        foreach (int odd in new[] { 0, 77, 255 })
        {
            DenseEmbeddings patches = OneOddPatch(odd, (ulong)odd + 10);
            AggregatedImage result = Create(strategy, 4).Aggregate($"img-{odd}", patches);

            int cluster = result.Assignment[odd];
            Assert.Equal(1, result.Sizes[cluster]);
            Assert.True(VectorMath.Dot(result.Vector(cluster), patches.Patch(odd)) > 0.9999f, $"{strategy} lost the odd patch at {odd}");
        }
    }

    [Fact]
    public void KMeans_at_small_K_may_absorb_the_odd_patch_which_is_why_covering_strategies_exist()
    {
        // Not a property of k-means to guarantee anything here; this documents the failure mode the others fix.
        DenseEmbeddings patches = OneOddPatch(77, 87, noise: 1.5);
        int absorbed = Enumerable.Range(0, 20).Count(i =>
        {
            AggregatedImage r = Create(AggregationStrategy.KMeans, 2).Aggregate($"img-{i}", patches);
            return r.Sizes[r.Assignment[77]] > 1;
        });
        Assert.True(absorbed > 0);
    }

    [Theory]
    [MemberData(nameof(AllStrategies))]
    public void Identical_patches_give_one_vector(AggregationStrategy strategy)
    {
        float[] patches = Enumerable.Repeat(new float[] { 1, 2, 3, 4 }, 64).SelectMany(v => v).ToArray();
        var dense = new DenseEmbeddings(patches, 64, 4, [1, 2, 3, 4], 8, 8).Normalized();
        AggregatedImage result = Create(strategy, 8).Aggregate("same", dense);
        Assert.Equal(1, result.Count);
        Assert.Equal([64], result.Sizes);
    }

    [Theory]
    [MemberData(nameof(AllStrategies))]
    public void K_at_least_the_number_of_patches_keeps_every_distinct_patch(AggregationStrategy strategy)
    {
        var random = new DeterministicRandom(21);
        float[][] directions = Enumerable.Range(0, 6).Select(_ => TestVectors.RandomUnit(random, 16)).ToArray();
        DenseEmbeddings patches = TestVectors.Grouped(directions, [0, 1, 2, 3, 4, 5], 0, 22);
        foreach (int k in new[] { 6, 40 })
        {
            AggregatedImage result = Create(strategy, k).Aggregate("few", patches);
            Assert.Equal(6, result.Count);
            Assert.All(result.Sizes, s => Assert.Equal(1, s));
        }
    }

    [Theory]
    [MemberData(nameof(AllStrategies))]
    public void Results_are_deterministic_normalised_and_consistent_with_the_assignment_map(AggregationStrategy strategy)
    {
        var random = new DeterministicRandom(31);
        float[][] directions = Enumerable.Range(0, 7).Select(_ => TestVectors.RandomUnit(random, 32)).ToArray();
        int[] labels = Enumerable.Range(0, 196).Select(i => i < 150 ? i % 3 : 3 + i % 4).ToArray();
        DenseEmbeddings patches = TestVectors.Grouped(directions, labels, 0.9, 32, gridWidth: 14);
        IAggregator aggregator = Create(strategy, 8);

        AggregatedImage a = aggregator.Aggregate("image", patches);
        AggregatedImage b = aggregator.Aggregate("image", patches);

        Assert.Equal(a.Vectors, b.Vectors);
        Assert.Equal(a.Assignment, b.Assignment);
        Assert.Equal(8, a.Count);
        int[] counted = new int[a.Count];
        for (int i = 0; i < patches.PatchCount; i++)
        {
            int own = a.Assignment[i];
            counted[own]++;
            float best = Enumerable.Range(0, a.Count).Max(c => VectorMath.Dot(patches.Patch(i), a.Vector(c)));
            Assert.Equal(best, VectorMath.Dot(patches.Patch(i), a.Vector(own)), 5);
        }

        Assert.Equal(counted, a.Sizes);
        for (int c = 0; c < a.Count; c++) Assert.Equal(1f, VectorMath.Norm(a.Vector(c)), 4);
    }

    [Theory]
    [MemberData(nameof(AllStrategies))]
    public void The_norm_outlier_guard_keeps_artefact_tokens_out_of_the_vectors(AggregationStrategy strategy)
    {
        var random = new DeterministicRandom(41);
        float[][] directions = [TestVectors.RandomUnit(random, 32), TestVectors.RandomUnit(random, 32), TestVectors.RandomUnit(random, 32)];
        int[] labels = Enumerable.Range(0, 100).Select(i => i % 2).ToArray();
        labels[50] = 2; // an artefact token: its own direction and a huge raw norm
        DenseEmbeddings normalized = TestVectors.Grouped(directions, labels, 0.2, 42, gridWidth: 10);
        float[] norms = Enumerable.Range(0, 100).Select(i => i == 50 ? 80f : 10f + (i % 7) * 0.1f).ToArray();
        var withNorms = new DenseEmbeddings(normalized.Patches, 100, 32, normalized.Global, 10, 10, norms);

        AggregatedImage guarded = Create(strategy, 4, guard: true).Aggregate("img", withNorms);
        AggregatedImage unguarded = Create(strategy, 4).Aggregate("img", withNorms);

        float guardedBest = Enumerable.Range(0, guarded.Count).Max(c => VectorMath.Dot(guarded.Vector(c), withNorms.Patch(50)));
        Assert.True(guardedBest < 0.9f, $"{strategy} kept the artefact token (cosine {guardedBest})");
        if (strategy != AggregationStrategy.KMeans)
        {
            float unguardedBest = Enumerable.Range(0, unguarded.Count).Max(c => VectorMath.Dot(unguarded.Vector(c), withNorms.Patch(50)));
            Assert.True(unguardedBest > 0.99f, "without the guard a covering strategy keeps the odd token");
        }
    }

    [Fact]
    public void Unknown_strategy_names_are_refused_with_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => AggregationOptions.ParseStrategy("medoids"));
        Assert.Contains("kmeans, kcenter, hybrid or cover", e.Message);
        Assert.Equal(AggregationStrategy.Hybrid, AggregationOptions.ParseStrategy("HYBRID"));
    }
}
