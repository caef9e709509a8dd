using Microsoft.Extensions.Logging.Abstractions;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Inference;

namespace ObjectRetrieval.Encoding.Tests;

[Collection(DemoModelCollection.Name)]
public sealed class DemoModelTests(DemoModelFixture demo)
{
    private static readonly InferenceOptions Cpu = new() { Provider = ExecutionProviderPreference.Cpu };

    [Fact]
    public void Image_graph_matches_the_same_computation_in_csharp()
    {
        using ImageTower tower = ImageTower.Open(demo.Package, Cpu, NullLogger.Instance);
        int size = tower.ImageSize;
        const int Views = 2;
        var random = new Random(11);
        var pixels = new float[Views * 3 * size * size];
        for (int i = 0; i < pixels.Length; i++)
        {
            int channel = i / (size * size) % 3;
            pixels[i] = (random.Next(256) / 255f - DemoModelWeights.Mean[channel]) / DemoModelWeights.Std[channel];
        }

        using ImageTowerOutput output = tower.Run(pixels, Views);
        for (int v = 0; v < Views; v++)
        {
            (float[] patches, float[] global) = Reference(demo.Weights, pixels.AsSpan(v * 3 * size * size, 3 * size * size), size);
            Near.Equal(patches, output.Patches(v));
            Near.Equal(global, output.Global(v));
        }
    }

    [Fact]
    public void Graph_accepts_a_larger_input_for_a_finer_grid()
    {
        using ImageTower tower = ImageTower.Open(demo.Package, Cpu, NullLogger.Instance, imageSize: 448);
        var pixels = new float[3 * 448 * 448];
        using ImageTowerOutput output = tower.Run(pixels, 1);
        Assert.Equal(28 * 28, output.PatchesPerView);
    }

    [Fact]
    public void Text_graph_matches_the_same_computation_in_csharp()
    {
        using TextEncoder encoder = TextEncoder.Create(demo.Package, Cpu);
        string[] texts = ["red", "a photo of a blue thing.", "zebra crossing"];
        float[] actual = encoder.EmbedTexts(texts);
        for (int t = 0; t < texts.Length; t++)
        {
            long[] ids = encoder.Tokenizer.Encode(texts[t]);
            float[] expected = ReferenceText(demo.Weights, ids);
            Near.Equal(expected, actual.AsSpan(t * encoder.Dimension, encoder.Dimension));
        }
    }

    [Theory]
    [InlineData("red")]
    [InlineData("a red object")]
    [InlineData("a photo of a red thing")]
    [InlineData("Red")]
    public void Phrases_with_a_colour_word_land_near_its_prototype(string text)
    {
        using TextEncoder encoder = TextEncoder.Create(demo.Package, Cpu);
        float[] query = encoder.EmbedTexts([text]);
        int d = encoder.Dimension;
        float red = Core.Embeddings.VectorMath.Dot(query, demo.Weights.Projection.AsSpan(0, d));
        Assert.True(red > 0.95f, $"cos(\"{text}\", red) = {red}");
        for (int c = 1; c < ColourWorld.Categories.Count; c++)
        {
            float other = Core.Embeddings.VectorMath.Dot(query, demo.Weights.Projection.AsSpan(c * d, d));
            Assert.True(other < red - 0.3f, $"cos(\"{text}\", {ColourWorld.Categories[c].Name}) = {other} vs red {red}");
        }
    }

    [Fact]
    public void The_query_ensemble_is_a_unit_vector_near_the_category()
    {
        using TextEncoder encoder = TextEncoder.Create(demo.Package, Cpu);
        float[] query = encoder.EmbedQuery("green");
        Assert.Equal(1f, Core.Embeddings.VectorMath.Norm(query), 4);
        int green = ColourWorld.CategoryIndex("green");
        Assert.True(Core.Embeddings.VectorMath.Dot(query, demo.Weights.Projection.AsSpan(green * encoder.Dimension, encoder.Dimension)) > 0.95f);
    }

    /// <summary>The demo image tower written out in plain loops: cell colours, soft assignment, patch means, projection.</summary>
    internal static (float[] Patches, float[] Global) Reference(DemoModelWeights weights, ReadOnlySpan<float> chw, int size)
    {
        int k = weights.PrototypeCount;
        int d = weights.Dimension;
        int p = weights.PatchSize;
        int grid = size / p;
        int cell = weights.CellSize;
        int cellsPerPatch = p / cell;
        var assignmentSums = new double[grid * grid * k];
        var logits = new double[k];
        for (int cy = 0; cy < size / cell; cy++)
        {
            for (int cx = 0; cx < size / cell; cx++)
            {
                var colour = new double[3];
                for (int c = 0; c < 3; c++)
                {
                    for (int y = cy * cell; y < (cy + 1) * cell; y++)
                    {
                        for (int x = cx * cell; x < (cx + 1) * cell; x++)
                        {
                            colour[c] += chw[c * size * size + y * size + x] * DemoModelWeights.Std[c] + DemoModelWeights.Mean[c];
                        }
                    }

                    colour[c] /= cell * cell;
                }

                double max = double.NegativeInfinity;
                for (int j = 0; j < k; j++)
                {
                    double distance = 0;
                    for (int c = 0; c < 3; c++)
                    {
                        double diff = colour[c] - weights.Prototypes[j * 3 + c];
                        distance += diff * diff;
                    }

                    logits[j] = -distance / weights.Temperature;
                    max = Math.Max(max, logits[j]);
                }

                double sum = 0;
                for (int j = 0; j < k; j++) sum += logits[j] = Math.Exp(logits[j] - max);
                int patch = (cy / cellsPerPatch) * grid + cx / cellsPerPatch;
                for (int j = 0; j < k; j++) assignmentSums[patch * k + j] += logits[j] / sum / (cellsPerPatch * cellsPerPatch);
            }
        }

        var patches = new float[grid * grid * d];
        var global = new double[d];
        for (int patch = 0; patch < grid * grid; patch++)
        {
            for (int e = 0; e < d; e++)
            {
                double value = 0;
                for (int j = 0; j < k; j++) value += assignmentSums[patch * k + j] * weights.Projection[j * d + e];
                patches[patch * d + e] = (float)value;
                global[e] += value / (grid * grid);
            }
        }

        double norm = Math.Sqrt(global.Sum(v => v * v));
        return (patches, global.Select(v => (float)(v / norm)).ToArray());
    }

    internal static float[] ReferenceText(DemoModelWeights weights, long[] ids)
    {
        int k = weights.PrototypeCount;
        int d = weights.Dimension;
        var summed = new double[k];
        foreach (long id in ids)
        {
            for (int j = 0; j < k; j++) summed[j] += weights.TokenTable[id * k + j];
        }

        var projected = new double[d];
        for (int e = 0; e < d; e++)
        {
            for (int j = 0; j < k; j++) projected[e] += summed[j] * weights.Projection[j * d + e];
        }

        double norm = Math.Sqrt(projected.Sum(v => v * v));
        return projected.Select(v => (float)(v / norm)).ToArray();
    }
}
