using Microsoft.Extensions.Logging.Abstractions;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Inference;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Encoding.Tests;

/// <summary>The demo model's dense heads run in ONNX Runtime with the structure of the exported heads.</summary>
public sealed class DenseHeadTests
{
    private const int Size = 224;
    private const int Patch = 16;
    private const int Grid = Size / Patch;
    private static readonly InferenceOptions Cpu = new() { Provider = ExecutionProviderPreference.Cpu };
    private static readonly DemoModelWeights Weights = DemoModelWeights.Create(Size, Patch, 64);
    private static readonly NamedColour Red = ColourWorld.Categories[ColourWorld.CategoryIndex("red")];
    private static readonly NamedColour Blue = ColourWorld.Categories[ColourWorld.CategoryIndex("blue")];

    [Theory]
    [InlineData(DenseHead.Value)]
    [InlineData(DenseHead.ClearClip)]
    [InlineData(DenseHead.Sclip)]
    [InlineData(DenseHead.Naclip)]
    public void Each_head_loads_names_itself_and_gives_one_embedding_per_patch(DenseHead head)
    {
        using var directory = new TempDirectory();
        ModelPackage package = DemoModelGenerator.Write(directory.Path, new DemoModelOptions { ImageSize = Size, DenseHead = head });
        Assert.Equal(head, package.DenseHead);
        Assert.Contains($"\"denseHead\": \"{DenseHeads.Name(head)}\"", File.ReadAllText(directory.File("model.json")), StringComparison.Ordinal);

        using ImageTower tower = ImageTower.Open(package, Cpu, NullLogger.Instance);
        using ImageTowerOutput output = tower.Run(Paint((x, _) => x < Size / 2 ? Red : Blue), 1);
        Assert.Equal(Grid * Grid, output.PatchesPerView);
        Assert.Equal(64, output.Dimension);
        Assert.All(output.Patches(0).ToArray(), v => Assert.True(float.IsFinite(v)));

        using ImageTower larger = ImageTower.Open(package, Cpu, NullLogger.Instance, imageSize: 2 * Size);
        using ImageTowerOutput finer = larger.Run(new float[3 * 4 * Size * Size], 1);
        Assert.Equal(4 * Grid * Grid, finer.PatchesPerView);
    }

    [Theory]
    [InlineData(DenseHead.ClearClip)]
    [InlineData(DenseHead.Sclip)]
    [InlineData(DenseHead.Naclip)]
    public void Attention_pulls_a_mixed_patch_towards_the_patches_that_look_like_it(DenseHead head)
    {
        // Left half red, right half blue; the boundary patch (row 7, column 7) is three quarters red.
        float[] pixels = Paint((x, _) => x < Size / 2 + 12 ? Red : Blue);
        int boundary = 7 * Grid + 7;
        int deepRed = 7 * Grid + 1;
        int deepBlue = 7 * Grid + 12;

        float[] value = PatchEmbeddings(DenseHead.Value, pixels);
        float[] mixed = PatchEmbeddings(head, pixels);

        float before = CosineTo(value, boundary, Red);
        float after = CosineTo(mixed, boundary, Red);
        Assert.True(after > before + 0.02f, $"{head}: cos(boundary patch, red) {after} vs value head {before}");
        Assert.True(Cosine(value, mixed, deepRed) > 0.999f, $"{head} changed a patch deep inside the red half");
        Assert.True(Cosine(value, mixed, deepBlue) > 0.999f, $"{head} changed a patch deep inside the blue half");
    }

    [Fact]
    public void Naclip_pulls_an_ambiguous_patch_towards_its_neighbours_where_clearclip_does_not()
    {
        // Left half red, right half blue, and deep in the blue half one patch that is half red, half blue:
        // by colour it resembles both halves equally, so only the neighbourhood prior can decide.
        int row = 7, column = 11;
        float[] pixels = Paint((x, y) =>
            x < Size / 2 || (y / Patch == row && x / Patch == column && x % Patch < Patch / 2) ? Red : Blue);
        int ambiguous = row * Grid + column;

        float value = CosineTo(PatchEmbeddings(DenseHead.Value, pixels), ambiguous, Blue);
        float clearClip = CosineTo(PatchEmbeddings(DenseHead.ClearClip, pixels), ambiguous, Blue);
        float naclip = CosineTo(PatchEmbeddings(DenseHead.Naclip, pixels), ambiguous, Blue);

        Assert.True(Math.Abs(clearClip - value) < 0.05f, $"clearclip moved the ambiguous patch: cos to blue {clearClip} vs value {value}");
        Assert.True(naclip > clearClip + 0.05f, $"naclip cos to blue {naclip} vs clearclip {clearClip}");
    }

    [Fact]
    public void The_global_embedding_is_the_value_paths_whatever_the_head()
    {
        float[] pixels = Paint((x, y) => x < Size / 3 || y < Size / 4 ? Red : Blue);
        float[] value = Global(DenseHead.Value, pixels);
        Near.Equal(value, Global(DenseHead.Naclip, pixels));
    }

    private static float[] PatchEmbeddings(DenseHead head, float[] pixels)
    {
        using var directory = new TempDirectory();
        ModelPackage package = DemoModelGenerator.Write(directory.Path, new DemoModelOptions { ImageSize = Size, DenseHead = head });
        using ImageTower tower = ImageTower.Open(package, Cpu, NullLogger.Instance);
        using ImageTowerOutput output = tower.Run(pixels, 1);
        return output.Patches(0).ToArray();
    }

    private static float[] Global(DenseHead head, float[] pixels)
    {
        using var directory = new TempDirectory();
        ModelPackage package = DemoModelGenerator.Write(directory.Path, new DemoModelOptions { ImageSize = Size, DenseHead = head });
        using ImageTower tower = ImageTower.Open(package, Cpu, NullLogger.Instance);
        using ImageTowerOutput output = tower.Run(pixels, 1);
        return output.Global(0).ToArray();
    }

    private static float CosineTo(float[] patches, int patch, NamedColour colour)
    {
        int d = Weights.Dimension;
        ReadOnlySpan<float> direction = Weights.Projection.AsSpan(ColourWorld.CategoryIndex(colour.Name) * d, d);
        ReadOnlySpan<float> row = patches.AsSpan(patch * d, d);
        return VectorMath.Dot(row, direction) / VectorMath.Norm(row);
    }

    private static float Cosine(float[] a, float[] b, int patch)
    {
        int d = Weights.Dimension;
        ReadOnlySpan<float> x = a.AsSpan(patch * d, d);
        ReadOnlySpan<float> y = b.AsSpan(patch * d, d);
        return VectorMath.Dot(x, y) / (VectorMath.Norm(x) * VectorMath.Norm(y));
    }

    /// <summary>A normalised CHW image with each pixel's colour given by its position.</summary>
    private static float[] Paint(Func<int, int, NamedColour> colourAt)
    {
        var pixels = new float[3 * Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                NamedColour colour = colourAt(x, y);
                byte[] rgb = [colour.R, colour.G, colour.B];
                for (int c = 0; c < 3; c++)
                {
                    pixels[c * Size * Size + y * Size + x] = (rgb[c] / 255f - DemoModelWeights.Mean[c]) / DemoModelWeights.Std[c];
                }
            }
        }

        return pixels;
    }
}
