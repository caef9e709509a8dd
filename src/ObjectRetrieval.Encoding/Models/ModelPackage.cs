using System.Text.Json;

namespace ObjectRetrieval.Encoding.Models;

/// <summary>How an image is fitted into the square model input.</summary>
public enum ResizeMode
{
    /// <summary>Scale the shorter side to the input size and cut the centre square ("center-crop").</summary>
    CenterCrop,

    /// <summary>Scale the longer side to the input size and fill the rest with the mean colour ("pad").</summary>
    Pad,
}

/// <summary>
/// How the image tower's last block turns patch tokens into dense features (model.json "image.denseHead", as the export writes it). All are
/// training-free edits of CLIP's last attention block; the name says which graph the package carries.
/// </summary>
public enum DenseHead
{
    /// <summary>"value": the value path alone (v → out-projection), no attention mixing, no residual or feed-forward.</summary>
    Value,

    /// <summary>"clearclip": query–query attention over the patches, no residual or feed-forward.</summary>
    ClearClip,

    /// <summary>"sclip": correlative attention, query–query plus key–key.</summary>
    Sclip,

    /// <summary>"naclip": key–key attention plus a Gaussian neighbourhood bias over the patch grid, no residual or feed-forward.</summary>
    Naclip,
}

/// <summary>The model.json names of <see cref="DenseHead"/>; one place for the mapping both ways.</summary>
public static class DenseHeads
{
    public const string FieldName = "denseHead";

    public static IReadOnlyList<string> Names { get; } = ["value", "clearclip", "sclip", "naclip"];

    public static string Name(DenseHead head) => Names[(int)head];

    /// <summary>The head named <paramref name="name"/>, or null when it names none.</summary>
    public static DenseHead? Parse(string name)
    {
        int index = Names.ToList().IndexOf(name);
        return index < 0 ? null : (DenseHead)index;
    }
}

/// <summary>The image tower of a model package.</summary>
public sealed record ImageTowerSpec(string Onnx, int ImageSize, int PatchSize, float[] Mean, float[] Std, ResizeMode Resize)
{
    /// <summary>Patches per side at the default input size.</summary>
    public int GridSize => ImageSize / PatchSize;
}

/// <summary>The CLIP byte-level BPE tokenizer files and conventions of a model package.</summary>
public sealed record TokenizerSpec(string Vocab, string Merges, string StartToken, string EndToken, int PadTokenId, bool Lowercase);

/// <summary>The text tower of a model package.</summary>
public sealed record TextTowerSpec(string Onnx, int ContextLength, bool HasAttentionMask, TokenizerSpec Tokenizer);

/// <summary>
/// A model folder described by model.json: the image and text towers (ONNX), the tokenizer and the
/// prompt templates. <see cref="Load"/> validates every field and referenced file up front so that a
/// broken package fails at start-up with a message naming the field or file, not at the first request.
/// </summary>
public sealed record ModelPackage
{
    public const string ManifestFileName = "model.json";
    public const int SupportedFormatVersion = 1;

    public required string Directory { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    public required int EmbeddingDim { get; init; }

    public required ImageTowerSpec Image { get; init; }

    public required TextTowerSpec Text { get; init; }

    public required IReadOnlyList<string> PromptTemplates { get; init; }

    /// <summary>The built-in template set model.json named (e.g. "imagenet80"), or null when it listed templates.</summary>
    public string? PromptTemplateSetName { get; init; }

    /// <summary>Names the template ensemble: the set's name, or a hash of the listed templates.</summary>
    public string PromptTemplateSetIdentity => PromptTemplateSets.Identity(PromptTemplates, PromptTemplateSetName);

    /// <summary>The dense head the image tower's graph carries; "value" when model.json names none.</summary>
    public DenseHead DenseHead { get; init; } = DenseHead.Value;

    public string ImageOnnxPath => Path.Combine(Directory, Image.Onnx);

    public string TextOnnxPath => Path.Combine(Directory, Text.Onnx);

    public string VocabPath => Path.Combine(Directory, Text.Tokenizer.Vocab);

    public string MergesPath => Path.Combine(Directory, Text.Tokenizer.Merges);

    /// <summary>Reads and validates <c>model.json</c> in <paramref name="directory"/>.</summary>
    public static ModelPackage Load(string directory)
    {
        string manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw new ModelPackageException($"Model package '{directory}' has no {ManifestFileName}.", fileName: ManifestFileName);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(manifestPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ModelPackageException($"{ManifestFileName} is not valid JSON: {ex.Message}", fileName: ManifestFileName, inner: ex);
        }

        using (document)
        {
            return ModelManifestReader.Read(Path.GetFullPath(directory), document.RootElement);
        }
    }

    /// <summary>Writes this package's <c>model.json</c> into <paramref name="directory"/> (the model files are the caller's).</summary>
    public void WriteManifest(string directory)
    {
        using FileStream stream = File.Create(Path.Combine(directory, ManifestFileName));
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteNumber("formatVersion", SupportedFormatVersion);
        writer.WriteString("name", Name);
        writer.WriteString("version", Version);
        writer.WriteNumber("embeddingDim", EmbeddingDim);

        writer.WriteStartObject("image");
        writer.WriteString(DenseHeads.FieldName, DenseHeads.Name(DenseHead));
        writer.WriteString("onnx", Image.Onnx);
        writer.WriteNumber("imageSize", Image.ImageSize);
        writer.WriteNumber("patchSize", Image.PatchSize);
        WriteFloats(writer, "mean", Image.Mean);
        WriteFloats(writer, "std", Image.Std);
        writer.WriteString("resize", Image.Resize == ResizeMode.Pad ? "pad" : "center-crop");
        writer.WriteEndObject();

        writer.WriteStartObject("text");
        writer.WriteString("onnx", Text.Onnx);
        writer.WriteNumber("contextLength", Text.ContextLength);
        writer.WriteBoolean("hasAttentionMask", Text.HasAttentionMask);
        writer.WriteStartObject("tokenizer");
        writer.WriteString("vocab", Text.Tokenizer.Vocab);
        writer.WriteString("merges", Text.Tokenizer.Merges);
        writer.WriteString("startToken", Text.Tokenizer.StartToken);
        writer.WriteString("endToken", Text.Tokenizer.EndToken);
        writer.WriteNumber("padTokenId", Text.Tokenizer.PadTokenId);
        writer.WriteBoolean("lowercase", Text.Tokenizer.Lowercase);
        writer.WriteEndObject();
        writer.WriteEndObject();

        if (PromptTemplateSetName is not null)
        {
            writer.WriteString("promptTemplates", PromptTemplateSetName);
        }
        else
        {
            writer.WriteStartArray("promptTemplates");
            foreach (string template in PromptTemplates) writer.WriteStringValue(template);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private static void WriteFloats(Utf8JsonWriter writer, string name, float[] values)
    {
        writer.WriteStartArray(name);
        foreach (float v in values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }
}
