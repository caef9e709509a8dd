using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Evaluation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Inference;
using ObjectRetrieval.Encoding.Models;
using Xunit.Abstractions;

namespace ObjectRetrieval.Encoding.Tests;

/// <summary>
/// The demo model must behave like CLIP where it matters to this system: a small object is found by
/// its best patch and lost in the global embedding.
/// </summary>
public sealed class RetrievalQualityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Small_objects_rank_by_their_best_patch_and_are_diluted_in_the_global_embedding()
    {
        using var directory = new TempDirectory();
        ModelPackage package = DemoModelGenerator.Write(Path.Combine(directory.Path, "model"));
        string scenes = Path.Combine(directory.Path, "scenes");
        IReadOnlyList<SceneImage> images = SceneGenerator.Write(scenes, new SceneOptions { Count = 80, Seed = 5 });
        CocoDataset.Load(Path.Combine(scenes, SceneGenerator.AnnotationsFileName)); // the annotations are valid COCO for the evaluator

        var options = new ImageEncoderOptions { KeepDensePatches = true, Inference = new InferenceOptions { Provider = ExecutionProviderPreference.Cpu } };
        var representations = new Dictionary<int, ImageRepresentation>();
        await using (ImageEncoder encoder = ImageEncoder.Create(package, options, new SphericalKMeans(new AggregationOptions { Clusters = 8 })))
        {
            var sources = images.Select(i => ImageSource.FromFile(Path.Combine(scenes, i.FileName), i.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            await foreach (EncodeResult result in encoder.EncodeManyAsync(sources))
            {
                representations[int.Parse(result.ImageId, System.Globalization.CultureInfo.InvariantCulture)] = result.Representation!;
            }
        }

        using TextEncoder text = TextEncoder.Create(package, new InferenceOptions { Provider = ExecutionProviderPreference.Cpu });
        double denseSmall = 0, globalSmall = 0;
        int queries = 0;
        for (int c = 0; c < ColourWorld.Categories.Count; c++)
        {
            // Relevant: images whose only instances of the category are small (COCO area < 32²).
            var withCategory = images.Where(i => i.Objects.Any(o => o.CategoryIndex == c)).ToList();
            var smallOnly = withCategory.Where(i => i.Objects.Where(o => o.CategoryIndex == c).All(o => o.Area < 32 * 32)).Select(i => i.Id).ToHashSet();
            if (smallOnly.Count == 0) continue;

            // Rank the small-only images among the images without the category.
            var candidates = images.Where(i => smallOnly.Contains(i.Id) || !withCategory.Contains(i)).Select(i => i.Id).ToList();
            float[] query = text.EmbedQuery(ColourWorld.Categories[c].Name);
            List<int> byDense = [.. candidates.OrderByDescending(id => MaxPatchScore(representations[id], query))];
            List<int> byGlobal = [.. candidates.OrderByDescending(id => VectorMath.Dot(representations[id].Global, query))];
            double dense = RetrievalMetrics.AveragePrecisionAtK(byDense, smallOnly, candidates.Count);
            double global = RetrievalMetrics.AveragePrecisionAtK(byGlobal, smallOnly, candidates.Count);
            output.WriteLine($"{ColourWorld.Categories[c].Name,-7} small-only images {smallOnly.Count,2}: AP dense {dense:F3}, global {global:F3}");
            denseSmall += dense;
            globalSmall += global;
            queries++;
        }

        denseSmall /= queries;
        globalSmall /= queries;
        output.WriteLine($"mAP on small objects: dense {denseSmall:F3}, global {globalSmall:F3}");
        Assert.True(denseSmall > 0.6, $"Best-patch scoring should find small objects: mAP {denseSmall:F3}.");
        Assert.True(denseSmall > globalSmall + 0.3, $"The global embedding should be diluted: dense {denseSmall:F3} vs global {globalSmall:F3}.");
    }

    private static float MaxPatchScore(ImageRepresentation representation, float[] query)
    {
        float best = float.NegativeInfinity;
        for (int p = 0; p < representation.PatchCount; p++)
        {
            best = Math.Max(best, VectorMath.Dot(representation.DensePatches.AsSpan(p * representation.Dimension, representation.Dimension), query));
        }

        return best;
    }
}
