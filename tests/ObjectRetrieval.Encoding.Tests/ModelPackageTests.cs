using System.Text.Json.Nodes;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Encoding.Tests;

[Collection(DemoModelCollection.Name)]
public sealed class ModelPackageTests(DemoModelFixture demo)
{
    [Fact]
    public void Loads_the_generated_demo_package()
    {
        ModelPackage package = ModelPackage.Load(demo.Package.Directory);
        Assert.Equal("demo-colours", package.Name);
        Assert.Equal(64, package.EmbeddingDim);
        Assert.Equal(224, package.Image.ImageSize);
        Assert.Equal(14, package.Image.GridSize);
        Assert.Equal(ResizeMode.CenterCrop, package.Image.Resize);
        Assert.Equal(77, package.Text.ContextLength);
        Assert.Equal("<|startoftext|>", package.Text.Tokenizer.StartToken);
        Assert.Contains("a photo of a {}.", package.PromptTemplates);
    }

    [Theory]
    [InlineData("formatVersion", null, "formatVersion")]
    [InlineData("embeddingDim", "0", "embeddingDim")]
    [InlineData("image.patchSize", "15", "image.patchSize")]
    [InlineData("image.mean", "[0.5, 0.5]", "image.mean")]
    [InlineData("image.std", "[0.5, 0, 0.5]", "image.std[1]")]
    [InlineData("image.resize", "\"stretch\"", "image.resize")]
    [InlineData("text.contextLength", "\"77\"", "text.contextLength")]
    [InlineData("text.hasAttentionMask", "1", "text.hasAttentionMask")]
    [InlineData("text.tokenizer.endToken", null, "text.tokenizer.endToken")]
    [InlineData("text.tokenizer.padTokenId", "-1", "text.tokenizer.padTokenId")]
    [InlineData("promptTemplates", "[\"a photo\"]", "promptTemplates[0]")]
    [InlineData("promptTemplates", "[]", "promptTemplates")]
    [InlineData("promptTemplates", "\"imagenet81\"", "promptTemplates")]
    [InlineData("promptTemplates", "7", "promptTemplates")]
    [InlineData("image.denseHead", "\"maskclip\"", "image.denseHead")]
    [InlineData("image.denseHead", "2", "image.denseHead")]
    public void Invalid_fields_are_named(string field, string? replacement, string expectedField)
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, field, replacement);

        var error = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Equal(expectedField, error.Field);
        Assert.Contains($"'{expectedField}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_dense_head_is_refused_listing_the_heads_there_are()
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "image.denseHead", "\"maskclip\"");
        var error = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains("'maskclip'", error.Message, StringComparison.Ordinal);
        foreach (string head in DenseHeads.Names) Assert.Contains($"\"{head}\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_package_without_a_dense_head_carries_the_value_head()
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "image.denseHead", null);
        Assert.Equal(DenseHead.Value, ModelPackage.Load(copy.Path).DenseHead);
    }

    [Theory]
    [InlineData("value", DenseHead.Value)]
    [InlineData("clearclip", DenseHead.ClearClip)]
    [InlineData("sclip", DenseHead.Sclip)]
    [InlineData("naclip", DenseHead.Naclip)]
    public void Each_dense_head_is_read_and_written_back_by_name(string name, DenseHead head)
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "image.denseHead", $"\"{name}\"");
        ModelPackage package = ModelPackage.Load(copy.Path);
        Assert.Equal(head, package.DenseHead);

        package.WriteManifest(copy.Path);
        Assert.Equal(head, ModelPackage.Load(copy.Path).DenseHead);
    }

    [Fact]
    public void The_imagenet80_set_is_selected_by_name_and_written_back_by_name()
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "promptTemplates", "\"imagenet80\"");
        ModelPackage package = ModelPackage.Load(copy.Path);
        Assert.Equal(80, package.PromptTemplates.Count);
        Assert.Equal(80, package.PromptTemplates.Distinct(StringComparer.Ordinal).Count());
        Assert.All(package.PromptTemplates, t => Assert.Contains("{}", t, StringComparison.Ordinal));
        Assert.Contains("itap of a {}.", package.PromptTemplates);
        Assert.Equal("imagenet80", package.PromptTemplateSetName);
        Assert.Equal("imagenet80", package.PromptTemplateSetIdentity);

        package.WriteManifest(copy.Path);
        Assert.Contains("\"promptTemplates\": \"imagenet80\"", File.ReadAllText(copy.File("model.json")), StringComparison.Ordinal);
        Assert.Equal(package.PromptTemplates, ModelPackage.Load(copy.Path).PromptTemplates);
    }

    [Fact]
    public void Listed_template_sets_have_an_identity_that_changes_with_the_templates()
    {
        using var copy = CopyPackage();
        ModelPackage listed = ModelPackage.Load(copy.Path);
        Assert.Null(listed.PromptTemplateSetName);

        EditManifest(copy.Path, "promptTemplates", "[\"a photo of a {}.\", \"{}\"]");
        ModelPackage other = ModelPackage.Load(copy.Path);
        Assert.NotEqual(listed.PromptTemplateSetIdentity, other.PromptTemplateSetIdentity);
        Assert.Equal(other.PromptTemplateSetIdentity, ModelPackage.Load(copy.Path).PromptTemplateSetIdentity);
    }

    [Fact]
    public void The_imagenet80_ensemble_is_a_unit_vector_near_the_category()
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "promptTemplates", "\"imagenet80\"");
        using TextEncoder encoder = TextEncoder.Create(ModelPackage.Load(copy.Path), new Inference.InferenceOptions { Provider = Inference.ExecutionProviderPreference.Cpu });
        float[] query = encoder.EmbedQuery("green");
        Assert.Equal(1f, Core.Embeddings.VectorMath.Norm(query), 4);

        // The ensemble is the renormalised mean of the unit template embeddings.
        string[] prompts = encoder.PromptTemplates.Select(t => t.Replace("{}", "green", StringComparison.Ordinal)).ToArray();
        float[] rows = encoder.EmbedTexts(prompts);
        var mean = new float[encoder.Dimension];
        for (int i = 0; i < prompts.Length; i++) System.Numerics.Tensors.TensorPrimitives.Add(mean, rows.AsSpan(i * encoder.Dimension, encoder.Dimension), mean);
        Core.Embeddings.VectorMath.Normalize(mean);
        Near.Equal(mean, query);

        int green = Demo.ColourWorld.CategoryIndex("green");
        Assert.True(Core.Embeddings.VectorMath.Dot(query, demo.Weights.Projection.AsSpan(green * encoder.Dimension, encoder.Dimension)) > 0.9f);
    }

    [Theory]
    [InlineData("image.onnx", "image.onnx")]
    [InlineData("text.onnx", "text.onnx")]
    [InlineData("vocab.json", "text.tokenizer.vocab")]
    [InlineData("merges.txt", "text.tokenizer.merges")]
    public void Missing_files_are_named_with_their_field(string file, string field)
    {
        using var copy = CopyPackage();
        File.Delete(copy.File(file));

        var error = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Equal(file, error.FileName);
        Assert.Equal(field, error.Field);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_outside_the_package_is_refused()
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "image.onnx", "\"../image.onnx\"");
        var error = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Equal("image.onnx", error.Field);
    }

    [Fact]
    public void A_missing_manifest_and_broken_json_name_model_json()
    {
        using var empty = new TempDirectory();
        Assert.Equal("model.json", Assert.Throws<ModelPackageException>(() => ModelPackage.Load(empty.Path)).FileName);

        File.WriteAllText(empty.File("model.json"), "{ \"formatVersion\": 1, ");
        var error = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(empty.Path));
        Assert.Equal("model.json", error.FileName);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_start_token_missing_from_the_vocabulary_is_named()
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, "text.tokenizer.startToken", "\"<|begin|>\"");
        ModelPackage package = ModelPackage.Load(copy.Path);
        var error = Assert.Throws<ModelPackageException>(() => Text.ClipTokenizer.Load(package));
        Assert.Equal("text.tokenizer.startToken", error.Field);
    }

    [Fact]
    public void An_image_graph_without_the_contract_outputs_is_refused_naming_the_file()
    {
        using var copy = CopyPackage();
        File.Copy(copy.File("text.onnx"), copy.File("image.onnx"), overwrite: true);
        ModelPackage package = ModelPackage.Load(copy.Path);
        var error = Assert.Throws<ModelPackageException>(() =>
            Inference.ImageTower.Open(package, new Inference.InferenceOptions { Provider = Inference.ExecutionProviderPreference.Cpu }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        Assert.Equal("image.onnx", error.FileName);
        Assert.Contains("pixel_values", error.Message, StringComparison.Ordinal);
    }

    private TempDirectory CopyPackage()
    {
        var copy = new TempDirectory();
        foreach (string file in Directory.GetFiles(demo.Package.Directory))
        {
            File.Copy(file, Path.Combine(copy.Path, Path.GetFileName(file)));
        }

        return copy;
    }

    /// <summary>Replaces (or, with a null replacement, removes) a dotted field of model.json.</summary>
    private static void EditManifest(string directory, string field, string? replacement)
    {
        string path = Path.Combine(directory, "model.json");
        JsonNode root = JsonNode.Parse(File.ReadAllText(path))!;
        string[] parts = field.Split('.');
        JsonObject parent = root.AsObject();
        foreach (string part in parts[..^1]) parent = parent[part]!.AsObject();
        if (replacement is null) parent.Remove(parts[^1]);
        else parent[parts[^1]] = JsonNode.Parse(replacement);
        File.WriteAllText(path, root.ToJsonString());
    }
}
