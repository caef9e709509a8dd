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
    public void Invalid_fields_are_named(string field, string? replacement, string expectedField)
    {
        using var copy = CopyPackage();
        EditManifest(copy.Path, field, replacement);

        var error = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Equal(expectedField, error.Field);
        Assert.Contains($"'{expectedField}'", error.Message, StringComparison.Ordinal);
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
