using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Core.Tests.Evaluation;

public sealed class SyntheticDenseGeneratorTests
{
    private static readonly SyntheticDenseOptions Small = new() { Images = 40, Seed = 3, Dimension = 32, Grid = 8 };

    [Fact]
    public void Same_seed_gives_the_same_features()
    {
        DenseFeatureSet a = SyntheticDenseGenerator.Generate(Small);
        DenseFeatureSet b = SyntheticDenseGenerator.Generate(Small);
        Assert.Equal(a.Patches, b.Patches);
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.Patches, SyntheticDenseGenerator.Generate(Small with { Seed = 4 }).Patches);
    }

    [Fact]
    public void Annotations_are_consistent_and_include_small_objects()
    {
        DenseFeatureSet set = SyntheticDenseGenerator.Generate(Small with { Images = 200 });
        Assert.Equal(200, set.ImageCount);
        Assert.All(set.Dataset.Annotations, a =>
        {
            Assert.Equal(a.Bbox[2] * a.Bbox[3], a.Area);
            Assert.InRange(a.Bbox[0] + a.Bbox[2], 0, 8 * 16);
        });
        Assert.Contains(set.Dataset.Annotations, a => a.Area < CocoDataset.SmallAreaLimit);
        Assert.Contains(set.Dataset.Annotations, a => a.Area >= CocoDataset.SmallAreaLimit);
        Assert.All(set.Dataset.Images, i => Assert.Contains(set.Dataset.Annotations, a => a.ImageId == i.Id));
    }

    [Fact]
    public void Save_and_load_round_trip_through_the_bring_your_own_layout()
    {
        DenseFeatureSet set = SyntheticDenseGenerator.Generate(Small);
        string directory = Directory.CreateTempSubdirectory().FullName;
        set.Save(directory);
        DenseFeatureSet loaded = DenseFeatureSet.Load(directory);
        Assert.Equal(set.Patches, loaded.Patches);
        Assert.Equal(set.Global, loaded.Global);
        Assert.Equal(set.ImageIds, loaded.ImageIds);
        Assert.Equal(set.Text, loaded.Text);
        Assert.Equal((8, 8), (loaded.GridWidth, loaded.GridHeight));
        Assert.Equal(set.Dataset.Annotations.Count, loaded.Dataset.Annotations.Count);
    }

    [Fact]
    public void Loading_explains_a_missing_file_and_mismatched_shapes()
    {
        DenseFeatureSet set = SyntheticDenseGenerator.Generate(Small);
        string directory = Directory.CreateTempSubdirectory().FullName;
        set.Save(directory);
        ObjectRetrieval.Core.IO.NpyFile.Write(Path.Combine(directory, DenseFeatureSet.GlobalFile), new float[5 * 32], 5, 32);
        var e = Assert.Throws<InvalidDataException>(() => DenseFeatureSet.Load(directory));
        Assert.Contains("global.npy", e.Message);

        File.Delete(Path.Combine(directory, DenseFeatureSet.TextFile));
        var missing = Assert.Throws<FileNotFoundException>(() => DenseFeatureSet.Load(directory));
        Assert.Contains("text.npy", missing.Message);
    }
}
