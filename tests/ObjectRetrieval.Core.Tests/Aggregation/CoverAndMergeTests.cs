using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Tests.Aggregation;

/// <summary>The noise-robust covering strategy and variable K (near-duplicate merging).</summary>
public sealed class CoverAndMergeTests
{
    private const int Side = 16;

    /// <summary>Two background halves of a 16 × 16 grid, and an object of the given patches; noise of the given norm.</summary>
    private static (DenseEmbeddings Patches, float[] Object) Scene(int[] objectPatches, double noise, ulong seed, int d = 64)
    {
        var random = new DeterministicRandom(seed);
        float[][] directions = [TestVectors.RandomUnit(random, d), TestVectors.RandomUnit(random, d), TestVectors.RandomUnit(random, d)];
        int[] labels = Enumerable.Range(0, Side * Side).Select(i => i % Side < Side / 2 ? 0 : 1).ToArray();
        foreach (int i in objectPatches) labels[i] = 2;
        return (TestVectors.Grouped(directions, labels, noise, seed + 1, gridWidth: Side), directions[2]);
    }

    private static float BestCosine(AggregatedImage result, ReadOnlySpan<float> target)
    {
        float best = float.NegativeInfinity;
        for (int c = 0; c < result.Count; c++) best = MathF.Max(best, VectorMath.Dot(result.Vector(c), target));
        return best;
    }

    [Fact]
    public void Cover_denoises_a_small_object_better_than_any_single_patch_of_it()
    {
        int[] obj = [5 * Side + 5, 5 * Side + 6, 6 * Side + 5];
        var (patches, direction) = Scene(obj, noise: 1.2, seed: 3);
        AggregatedImage result = new AggregationOptions { Strategy = AggregationStrategy.Cover, Clusters = 8, MergeThreshold = null }.CreateAggregator().Aggregate("img", patches);

        float bestPatch = obj.Max(i => VectorMath.Dot(patches.Patch(i), direction));
        Assert.True(BestCosine(result, direction) > bestPatch + 0.02f, $"cover {BestCosine(result, direction)} vs best single patch {bestPatch}");
    }

    [Fact]
    public void Cover_spends_its_slots_on_regions_when_nothing_stands_out_of_the_noise()
    {
        // Pure noise around two backgrounds: (almost) no patch is evidence, so the vectors are k-means centroids (a region summary
        // of many patches), where hybrid spends half of K on single noisy patches.
        var (patches, _) = Scene([], noise: 1.5, seed: 5);
        AggregatedImage cover = new AggregationOptions { Strategy = AggregationStrategy.Cover, Clusters = 8, MergeThreshold = null }.CreateAggregator().Aggregate("img", patches);
        AggregatedImage hybrid = new AggregationOptions { Strategy = AggregationStrategy.Hybrid, Clusters = 8, MergeThreshold = null }.CreateAggregator().Aggregate("img", patches);

        static int Lone(AggregatedImage r) => r.Sizes.Count(s => s <= 2);
        Assert.Equal(8, cover.Count);
        Assert.True(Lone(cover) <= 1, $"cover kept {Lone(cover)} vectors of at most 2 patches: {string.Join(",", cover.Sizes)}");
        Assert.True(Lone(hybrid) >= 3, $"the comparison is void unless hybrid keeps lone noisy patches: {string.Join(",", hybrid.Sizes)}");
    }

    [Fact]
    public void Cover_keeps_a_lone_distinct_patch_exactly_at_high_noise()
    {
        int lone = 9 * Side + 12;
        var (patches, _) = Scene([lone], noise: 1.2, seed: 7);
        AggregatedImage result = new AggregationOptions { Strategy = AggregationStrategy.Cover, Clusters = 8, MergeThreshold = null }.CreateAggregator().Aggregate("img", patches);
        Assert.True(VectorMath.Dot(result.Vector(result.Assignment[lone]), patches.Patch(lone)) > 0.9999f);
    }

    [Fact]
    public void Merging_near_duplicates_leaves_a_plain_image_with_fewer_vectors_and_keeps_distinct_ones()
    {
        int lone = 3 * Side + 3;
        var (patches, _) = Scene([lone], noise: 0.1, seed: 9);
        var fixedK = new AggregationOptions { Strategy = AggregationStrategy.KMeans, Clusters = 8, MergeThreshold = null };
        AggregatedImage all = fixedK.CreateAggregator().Aggregate("img", patches);
        AggregatedImage merged = (fixedK with { MergeThreshold = 0.9f }).CreateAggregator().Aggregate("img", patches);

        Assert.Equal(8, all.Count);
        Assert.InRange(merged.Count, 2, 3); // two backgrounds, plus the lone patch if k-means kept it
        Assert.Equal(patches.PatchCount, merged.Sizes.Sum());
        for (int a = 0; a < merged.Count; a++)
        {
            Assert.Equal(1f, VectorMath.Norm(merged.Vector(a)), 4);
            for (int b = a + 1; b < merged.Count; b++) Assert.True(VectorMath.Dot(merged.Vector(a), merged.Vector(b)) < 0.9f);
        }
    }

    [Fact]
    public void A_merge_threshold_above_every_cosine_changes_nothing()
    {
        var (patches, _) = Scene([40], noise: 0.8, seed: 11);
        var options = new AggregationOptions { Strategy = AggregationStrategy.Cover, Clusters = 8, MergeThreshold = null };
        AggregatedImage plain = options.CreateAggregator().Aggregate("img", patches);
        AggregatedImage strict = (options with { MergeThreshold = 1f }).CreateAggregator().Aggregate("img", patches);
        Assert.Equal(plain.Vectors, strict.Vectors);
        Assert.Equal(plain.Assignment, strict.Assignment);
    }

    [Fact]
    public void Settings_out_of_range_are_refused_by_name()
    {
        Assert.Contains(nameof(AggregationOptions.MergeThreshold), Assert.Throws<ArgumentOutOfRangeException>(() => new AggregationOptions { MergeThreshold = 1.5f }.Validate()).Message);
        Assert.Contains(nameof(AggregationOptions.CoverMaxShare), Assert.Throws<ArgumentOutOfRangeException>(() => new AggregationOptions { CoverMaxShare = 1 }.Validate()).Message);
    }
}
