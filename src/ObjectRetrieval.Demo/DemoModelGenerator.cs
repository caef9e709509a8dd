using ObjectRetrieval.Demo.Onnx;
using ObjectRetrieval.Encoding.Models;
using static ObjectRetrieval.Demo.Onnx.OnnxGraphBuilder;
using DataType = ObjectRetrieval.Demo.Onnx.Proto.TensorProto.Types.DataType;

namespace ObjectRetrieval.Demo;

/// <summary>Settings of the generated demo model.</summary>
public sealed record DemoModelOptions
{
    /// <summary>Default input side: 448 gives a 28×28 patch grid, fine enough for objects of ~20 px.</summary>
    public int ImageSize { get; init; } = 448;

    public int PatchSize { get; init; } = 16;

    public int Dimension { get; init; } = 64;

    public int Seed { get; init; } = 17;

    public float Temperature { get; init; } = 0.004f;

    public int ContextLength { get; init; } = 77;

    /// <summary>The dense head the image graph carries, with the structure of the same head in exported CLIP models.</summary>
    public DenseHead DenseHead { get; init; } = DenseHead.Value;
}

/// <summary>
/// Writes the demo model package (image.onnx, text.onnx, vocab.json, merges.txt, model.json) with the
/// same contract as exported CLIP models, its ONNX graphs built from C#.
/// </summary>
public static class DemoModelGenerator
{
    public const string ModelName = "demo-colours";

    public static ModelPackage Write(string directory, DemoModelOptions? options = null)
    {
        options ??= new DemoModelOptions();
        Directory.CreateDirectory(directory);
        DemoModelWeights weights = DemoModelWeights.Create(options.ImageSize, options.PatchSize, options.Dimension, options.Seed, options.Temperature);

        File.WriteAllBytes(Path.Combine(directory, "image.onnx"), BuildImageGraph(weights, options.DenseHead));
        File.WriteAllBytes(Path.Combine(directory, "text.onnx"), BuildTextGraph(weights));
        weights.Vocabulary.Write(Path.Combine(directory, "vocab.json"), Path.Combine(directory, "merges.txt"));

        var package = new ModelPackage
        {
            Directory = Path.GetFullPath(directory),
            Name = ModelName,
            Version = "1",
            EmbeddingDim = options.Dimension,
            Image = new ImageTowerSpec("image.onnx", options.ImageSize, options.PatchSize, DemoModelWeights.Mean, DemoModelWeights.Std, ResizeMode.CenterCrop),
            Text = new TextTowerSpec(
                "text.onnx",
                options.ContextLength,
                HasAttentionMask: false,
                new TokenizerSpec("vocab.json", "merges.txt", DemoVocabulary.StartToken, DemoVocabulary.EndToken, PadTokenId: 0, Lowercase: true)),
            PromptTemplates = ["a photo of a {}.", "a {} object.", "{}"],
            DenseHead = options.DenseHead,
        };
        package.WriteManifest(directory);
        return ModelPackage.Load(directory);
    }

    /// <summary>
    /// pixel_values → un-normalise → mean colour of each small cell (4×4 px) → softmax over negative squared
    /// distances to the prototypes (a 1×1 convolution: the |x|² term is the same for every prototype and
    /// cancels) → mean over the cells of each patch → projection = patch_embeds; image_embeds = normalised
    /// mean of the patch embeddings. Assigning cells rather than whole patches keeps an object that fills a
    /// third of a patch visible as a third of that patch, instead of blending it into a muddy mean colour.
    /// A head other than "value" puts an attention block between the per-patch assignments and the projection
    /// (see <see cref="AttentionHead"/>); the global embedding stays the value path's, as the CLS path of an
    /// exported model is untouched by its dense head.
    /// </summary>
    internal static byte[] BuildImageGraph(DemoModelWeights weights, DenseHead head = DenseHead.Value)
    {
        int k = weights.PrototypeCount;
        int d = weights.Dimension;
        var graph = new OnnxGraphBuilder("demo_image_tower");
        string pixels = graph.Input("pixel_values", DataType.Float, "batch", 3, "height", "width");
        graph.Output("image_embeds", DataType.Float, "batch", d);
        graph.Output("patch_embeds", DataType.Float, "batch", "patches", d);

        string std = graph.Floats("std", DemoModelWeights.Std, 1, 3, 1, 1);
        string mean = graph.Floats("mean", DemoModelWeights.Mean, 1, 3, 1, 1);
        var convWeight = new float[k * 3];
        var convBias = new float[k];
        for (int p = 0; p < k; p++)
        {
            float squared = 0;
            for (int c = 0; c < 3; c++)
            {
                float value = weights.Prototypes[p * 3 + c];
                convWeight[p * 3 + c] = 2 * value / weights.Temperature;
                squared += value * value;
            }

            convBias[p] = -squared / weights.Temperature;
        }

        string w = graph.Floats("prototype_weight", convWeight, k, 3, 1, 1);
        string b = graph.Floats("prototype_bias", convBias, k);
        string projection = graph.Floats("projection", weights.Projection, k, d);
        string flatShape = graph.Int64s("flat_shape", [0, k, -1], 3);

        int cell = weights.CellSize;
        int cellsPerPatch = weights.PatchSize / cell;
        string raw = graph.Node("Add", [graph.Node("Mul", [pixels, std]), mean]);
        string cellColours = graph.Node("AveragePool", [raw], null, Ints("kernel_shape", cell, cell), Ints("strides", cell, cell));
        string logits = graph.Node("Conv", [cellColours, w, b], null, Ints("kernel_shape", 1, 1));
        string assignment = graph.Node("Softmax", [logits], null, Int("axis", 1));
        string pooled = graph.Node("AveragePool", [assignment], null,
            Ints("kernel_shape", cellsPerPatch, cellsPerPatch), Ints("strides", cellsPerPatch, cellsPerPatch));
        string flat = graph.Node("Reshape", [pooled, flatShape]);
        string perPatch = graph.Node("Transpose", [flat], null, Ints("perm", 0, 2, 1));
        string valueEmbeds = head == DenseHead.Value
            ? graph.Node("MatMul", [perPatch, projection], "patch_embeds")
            : graph.Node("MatMul", [perPatch, projection]);
        if (head != DenseHead.Value)
        {
            string mixed = AttentionHead(graph, weights, head, perPatch, graph.Node("Shape", [pooled]));
            graph.Node("MatMul", [mixed, projection], "patch_embeds");
        }

        string meanPatch = graph.Node("ReduceMean", [valueEmbeds], null, Ints("axes", 1), Int("keepdims", 0));
        NormalizeRows(graph, meanPatch, "image_embeds");
        return graph.ToModelBytes("objret gen-model", $"Demo colour image tower: per-patch colour prototypes projected into a joint space; dense head {DenseHeads.Name(head)}.");
    }

    /// <summary>
    /// The last attention block of a training-free dense head over the patch tokens x (batch, patches, k), with
    /// no residual and no feed-forward: clearclip softmax(q·qᵀ)·v; sclip (softmax(q·qᵀ) + softmax(k·kᵀ))·v;
    /// naclip softmax(k·kᵀ + ω)·v with ω a Gaussian of the patch-grid distance. The projections are the
    /// identity, so attention weighs patches by how alike their colour assignments are (and, for naclip, how
    /// close they lie): a patch moves towards the patches that look like it.
    /// </summary>
    private static string AttentionHead(OnnxGraphBuilder graph, DemoModelWeights weights, DenseHead head, string tokens, string gridShape)
    {
        int k = weights.PrototypeCount;
        var identity = new float[k * k];
        for (int i = 0; i < k; i++) identity[i * k + i] = 1f;
        string query = graph.Node("MatMul", [tokens, graph.Floats("q_proj", identity, k, k)]);
        string key = graph.Node("MatMul", [tokens, graph.Floats("k_proj", identity, k, k)]);
        string value = graph.Node("MatMul", [tokens, graph.Floats("v_proj", identity, k, k)]);
        string scale = graph.Floats("attention_scale", [DemoModelWeights.AttentionScale]);

        string Logits(string a, string b) =>
            graph.Node("Mul", [graph.Node("MatMul", [a, graph.Node("Transpose", [b], null, Ints("perm", 0, 2, 1))]), scale]);
        string Softmax(string logits) => graph.Node("Softmax", [logits], null, Int("axis", -1));

        string attention = head switch
        {
            DenseHead.ClearClip => Softmax(Logits(query, query)),
            DenseHead.Sclip => graph.Node("Add", [Softmax(Logits(query, query)), Softmax(Logits(key, key))]),
            DenseHead.Naclip => Softmax(graph.Node("Add", [Logits(key, key), NeighbourhoodBias(graph, gridShape)])),
            _ => throw new ArgumentOutOfRangeException(nameof(head), head, "The value head has no attention block."),
        };
        return graph.Node("MatMul", [attention, value]);
    }

    /// <summary>
    /// ω (patches × patches) = w · exp(−|pᵢ − pⱼ|² / 2σ²) over row-major patch-grid positions, built from the
    /// runtime grid shape so the graph keeps accepting any input size.
    /// </summary>
    private static string NeighbourhoodBias(OnnxGraphBuilder graph, string gridShape)
    {
        // Scalar indices give scalar extents, as Range wants.
        string rows = graph.Node("Cast", [graph.Node("Gather", [gridShape, graph.Int64s("grid_rows_index", [2])], null, Int("axis", 0))], null, Int("to", (long)DataType.Float));
        string cols = graph.Node("Cast", [graph.Node("Gather", [gridShape, graph.Int64s("grid_cols_index", [3])], null, Int("axis", 0))], null, Int("to", (long)DataType.Float));
        string zero = graph.Floats("range_start", [0f]); // no dimensions: scalars, as Range wants
        string one = graph.Floats("range_step", [1f]);
        string count = graph.Node("Mul", [rows, cols]);
        string index = graph.Node("Range", [zero, count, one]);
        string y = graph.Node("Floor", [graph.Node("Div", [index, cols])]);
        string x = graph.Node("Sub", [index, graph.Node("Mul", [y, cols])]);
        string column = graph.Int64s("as_column", [-1, 1], 2);
        string row = graph.Int64s("as_row", [1, -1], 2);

        string SquaredDifference(string coordinate)
        {
            string difference = graph.Node("Sub", [graph.Node("Reshape", [coordinate, column]), graph.Node("Reshape", [coordinate, row])]);
            return graph.Node("Mul", [difference, difference]);
        }

        float sigma = DemoModelWeights.NeighbourhoodSigma;
        string distance = graph.Node("Add", [SquaredDifference(y), SquaredDifference(x)]);
        string gaussian = graph.Node("Exp", [graph.Node("Mul", [distance, graph.Floats("neighbourhood_exponent", [-1f / (2 * sigma * sigma)])])]);
        return graph.Node("Mul", [gaussian, graph.Floats("neighbourhood_weight", [DemoModelWeights.NeighbourhoodWeight])]);
    }

    /// <summary>input_ids → token rows (Gather) → sum over positions → projection → normalised text_embeds.</summary>
    internal static byte[] BuildTextGraph(DemoModelWeights weights)
    {
        int k = weights.PrototypeCount;
        int d = weights.Dimension;
        var graph = new OnnxGraphBuilder("demo_text_tower");
        string ids = graph.Input("input_ids", DataType.Int64, "batch", "sequence");
        graph.Output("text_embeds", DataType.Float, "batch", d);

        string table = graph.Floats("token_table", weights.TokenTable, weights.Vocabulary.Count, k);
        string projection = graph.Floats("projection", weights.Projection, k, d);
        string axes = graph.Int64s("sum_axes", [1], 1);

        string rows = graph.Node("Gather", [table, ids], null, Int("axis", 0));
        string summed = graph.Node("ReduceSum", [rows, axes], null, Int("keepdims", 0));
        string projected = graph.Node("MatMul", [summed, projection]);
        NormalizeRows(graph, projected, "text_embeds");
        return graph.ToModelBytes("objret gen-model", "Demo colour text tower: category words point at their colour prototype.");
    }

    private static void NormalizeRows(OnnxGraphBuilder graph, string input, string output)
    {
        string epsilon = graph.Floats(output + "_epsilon", [1e-12f]);
        string squared = graph.Node("ReduceSumSquare", [input], null, Ints("axes", 1), Int("keepdims", 1));
        string norm = graph.Node("Sqrt", [graph.Node("Max", [squared, epsilon])]);
        graph.Node("Div", [input, norm], output);
    }
}
