using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Core.Tests.Evaluation;

/// <summary>Each property the generator can add changes the features the way its name says.</summary>
public sealed class SyntheticDataPropertiesTests
{
    private static readonly SyntheticDenseOptions Base = new() { Images = 120, Seed = 5, Dimension = 48, Grid = 8, Noise = 0.3 };

    private static float Dot(DenseFeatureSet set, int image, int patch, ReadOnlySpan<float> v) =>
        VectorMath.Dot(set.Patches.AsSpan((image * set.PatchCount + patch) * set.Dimension, set.Dimension), v);

    private static ReadOnlySpan<float> Text(DenseFeatureSet set, long categoryId) => set.Text.AsSpan((int)(categoryId - 1) * set.Dimension, set.Dimension);

    private static IEnumerable<(int Image, int Patch, CocoAnnotation Object, bool Inside)> Patches(DenseFeatureSet set)
    {
        int px = Base.PatchPixels;
        foreach (CocoAnnotation a in set.Dataset.Annotations)
        {
            int image = (int)a.ImageId - 1;
            for (int patch = 0; patch < set.PatchCount; patch++)
            {
                int x = patch % set.GridWidth * px, y = patch / set.GridWidth * px;
                bool inside = x >= a.Bbox[0] && x < a.Bbox[0] + a.Bbox[2] && y >= a.Bbox[1] && y < a.Bbox[1] + a.Bbox[3];
                yield return (image, patch, a, inside);
            }
        }
    }

    private static double MeanTextCosine(DenseFeatureSet set, bool inside) =>
        Patches(set).Where(p => p.Inside == inside).Average(p => Dot(set, p.Image, p.Patch, Text(set, p.Object.CategoryId)) / VectorMath.Norm(Text(set, p.Object.CategoryId)));

    [Fact]
    public void Text_misalignment_lowers_how_well_a_query_matches_its_objects()
    {
        double aligned = MeanTextCosine(SyntheticDenseGenerator.Generate(Base with { TextMisalignment = 0 }), inside: true);
        double misaligned = MeanTextCosine(SyntheticDenseGenerator.Generate(Base with { TextMisalignment = 1.5 }), inside: true);
        Assert.True(misaligned < aligned - 0.05, $"{misaligned} vs {aligned}");
    }

    [Fact]
    public void A_background_lean_makes_a_query_match_the_scene_around_its_object()
    {
        double independent = MeanTextCosine(SyntheticDenseGenerator.Generate(Base), inside: false);
        double leaning = MeanTextCosine(SyntheticDenseGenerator.Generate(Base with { BackgroundLean = 0.9 }), inside: false);
        Assert.True(leaning > independent + 0.02, $"{leaning} vs {independent}");
    }

    [Fact]
    public void Neighbour_bleeding_carries_an_object_into_the_patches_beside_it()
    {
        static double Beside(DenseFeatureSet set) => Patches(set)
            .Where(p => !p.Inside && Touches(p.Patch, p.Object, set.GridWidth))
            .Average(p => Dot(set, p.Image, p.Patch, Text(set, p.Object.CategoryId)));
        double sharp = Beside(SyntheticDenseGenerator.Generate(Base));
        double bled = Beside(SyntheticDenseGenerator.Generate(Base with { NeighbourBleed = 0.5 }));
        Assert.True(bled > sharp + 0.02, $"{bled} vs {sharp}");
    }

    private static bool Touches(int patch, CocoAnnotation a, int g)
    {
        int px = Base.PatchPixels;
        int x = patch % g, y = patch / g;
        int x0 = (int)a.Bbox[0] / px, y0 = (int)a.Bbox[1] / px, x1 = x0 + (int)a.Bbox[2] / px - 1, y1 = y0 + (int)a.Bbox[3] / px - 1;
        bool horizontal = y >= y0 && y <= y1 && (x == x0 - 1 || x == x1 + 1);
        bool vertical = x >= x0 && x <= x1 && (y == y0 - 1 || y == y1 + 1);
        return horizontal || vertical;
    }

    [Fact]
    public void A_large_region_bias_makes_small_objects_weigh_less_in_the_global_vector()
    {
        static double SmallInGlobal(DenseFeatureSet set) => set.Dataset.Annotations.Where(a => a.Area < CocoDataset.SmallAreaLimit)
            .Average(a => VectorMath.Dot(set.Global.AsSpan((int)(a.ImageId - 1) * set.Dimension, set.Dimension), Text(set, a.CategoryId)) / VectorMath.Norm(set.Global.AsSpan((int)(a.ImageId - 1) * set.Dimension, set.Dimension)));
        double mean = SmallInGlobal(SyntheticDenseGenerator.Generate(Base));
        double biased = SmallInGlobal(SyntheticDenseGenerator.Generate(Base with { GlobalLargeRegionBias = 1 }));
        Assert.True(biased < mean - 0.01, $"{biased} vs {mean}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Small_objects_cover_at_most_the_configured_patches(int maxPatches)
    {
        DenseFeatureSet set = SyntheticDenseGenerator.Generate(Base with { SmallObjectShare = 1, SmallObjectMaxPatches = maxPatches, Images = 60 });
        double patchArea = Base.PatchPixels * Base.PatchPixels;
        Assert.All(set.Dataset.Annotations, a => Assert.InRange(a.Area / patchArea, 1, maxPatches));
        Assert.Contains(set.Dataset.Annotations, a => a.Area / patchArea == maxPatches);
    }

    [Fact]
    public void More_categories_than_the_named_ones_get_numbered_names_and_only_a_share_comes_in_pairs()
    {
        DenseFeatureSet set = SyntheticDenseGenerator.Generate(Base with { Categories = 34, FamilyShare = 0.5, FamilySimilarity = 0.9, TextMisalignment = 0 });
        Assert.Equal(34, set.Dataset.Categories.Count);
        Assert.Equal("category 34", set.Dataset.Categories[^1].Name);
        Assert.Equal(34, set.Dataset.Categories.Select(c => c.Name).Distinct().Count());
        // Pairs (0,1)...(16,17) share a direction; later neighbours do not.
        float paired = VectorMath.Dot(Text(set, 1), Text(set, 2)), unpaired = VectorMath.Dot(Text(set, 33), Text(set, 34));
        Assert.True(paired > unpaired + 0.3f, $"{paired} vs {unpaired}");
    }
}
