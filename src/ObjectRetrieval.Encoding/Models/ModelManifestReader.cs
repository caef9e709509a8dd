using System.Text.Json;

namespace ObjectRetrieval.Encoding.Models;

/// <summary>Field-by-field validation of model.json; every error names the dotted field path or the file.</summary>
internal static class ModelManifestReader
{
    private const string Manifest = ModelPackage.ManifestFileName;

    public static ModelPackage Read(string directory, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Error("", "must be a JSON object");

        int formatVersion = Int(root, "formatVersion", "formatVersion");
        if (formatVersion != ModelPackage.SupportedFormatVersion)
        {
            throw Error("formatVersion", $"is {formatVersion}; this reader understands {ModelPackage.SupportedFormatVersion}");
        }

        string name = NonEmptyString(root, "name", "name");
        string version = NonEmptyString(root, "version", "version");
        int embeddingDim = Int(root, "embeddingDim", "embeddingDim");
        if (embeddingDim <= 0) throw Error("embeddingDim", $"must be positive, got {embeddingDim}");

        JsonElement imageElement = Object(root, "image", "image");
        ImageTowerSpec image = ReadImage(directory, imageElement);
        TextTowerSpec text = ReadText(directory, Object(root, "text", "text"));

        var (templates, templateSetName) = ReadTemplates(root);
        DenseHead denseHead = ReadDenseHead(imageElement);

        return new ModelPackage
        {
            Directory = directory,
            Name = name,
            Version = version,
            EmbeddingDim = embeddingDim,
            Image = image,
            Text = text,
            PromptTemplates = templates,
            PromptTemplateSetName = templateSetName,
            DenseHead = denseHead,
        };
    }

    /// <summary>"promptTemplates": a list of templates with "{}" for the query, or the name of a built-in set.</summary>
    private static (IReadOnlyList<string> Templates, string? SetName) ReadTemplates(JsonElement root)
    {
        if (!root.TryGetProperty("promptTemplates", out JsonElement element)) throw Error("promptTemplates", "is missing");
        if (element.ValueKind == JsonValueKind.String)
        {
            string name = element.GetString()!;
            IReadOnlyList<string> set = PromptTemplateSets.Find(name)
                ?? throw Error("promptTemplates", $"names the template set '{name}', which is not built in; expected a list of templates or one of {Quoted(PromptTemplateSets.Names)}");
            return (set, name);
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw Error("promptTemplates", $"must be a JSON array of templates or the name of a built-in set ({Quoted(PromptTemplateSets.Names)}), got {element.ValueKind.ToString().ToLowerInvariant()}");
        }

        var templates = new List<string>();
        int index = 0;
        foreach (JsonElement item in element.EnumerateArray())
        {
            string field = $"promptTemplates[{index++}]";
            if (item.ValueKind != JsonValueKind.String) throw Error(field, "must be a string");
            string template = item.GetString()!;
            if (!template.Contains("{}", StringComparison.Ordinal)) throw Error(field, $"'{template}' has no '{{}}' placeholder for the query");
            templates.Add(template);
        }

        if (templates.Count == 0) throw Error("promptTemplates", "must hold at least one template (use \"{}\" for the bare query)");
        return (templates, null);
    }

    /// <summary>Optional "image.denseHead"; packages written before it existed carry the value-path head.</summary>
    private static DenseHead ReadDenseHead(JsonElement image)
    {
        const string field = "image." + DenseHeads.FieldName;
        if (!image.TryGetProperty(DenseHeads.FieldName, out JsonElement element)) return DenseHead.Value;
        if (element.ValueKind != JsonValueKind.String) throw Error(field, $"must be a JSON string (one of {Quoted(DenseHeads.Names)}), got {element.ValueKind.ToString().ToLowerInvariant()}");
        string name = element.GetString()!;
        return DenseHeads.Parse(name) ?? throw Error(field, $"is '{name}'; expected one of {Quoted(DenseHeads.Names)}");
    }

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"\"{n}\""));

    private static ImageTowerSpec ReadImage(string directory, JsonElement image)
    {
        string onnx = ExistingFile(directory, image, "onnx", "image.onnx");
        int imageSize = Int(image, "imageSize", "image.imageSize");
        int patchSize = Int(image, "patchSize", "image.patchSize");
        if (imageSize <= 0) throw Error("image.imageSize", $"must be positive, got {imageSize}");
        if (patchSize <= 0) throw Error("image.patchSize", $"must be positive, got {patchSize}");
        if (imageSize % patchSize != 0) throw Error("image.patchSize", $"{patchSize} does not divide image.imageSize {imageSize}");

        float[] mean = Rgb(image, "mean", "image.mean");
        float[] std = Rgb(image, "std", "image.std");
        for (int c = 0; c < 3; c++)
        {
            if (std[c] <= 0) throw Error($"image.std[{c}]", $"must be positive, got {std[c]}");
        }

        string resize = NonEmptyString(image, "resize", "image.resize");
        ResizeMode mode = resize switch
        {
            "center-crop" => ResizeMode.CenterCrop,
            "pad" => ResizeMode.Pad,
            _ => throw Error("image.resize", $"is '{resize}'; expected \"center-crop\" or \"pad\""),
        };

        return new ImageTowerSpec(onnx, imageSize, patchSize, mean, std, mode);
    }

    private static TextTowerSpec ReadText(string directory, JsonElement text)
    {
        string onnx = ExistingFile(directory, text, "onnx", "text.onnx");
        int contextLength = Int(text, "contextLength", "text.contextLength");
        if (contextLength < 2) throw Error("text.contextLength", $"must be at least 2 (start and end tokens), got {contextLength}");
        bool hasMask = Bool(text, "hasAttentionMask", "text.hasAttentionMask");

        JsonElement tokenizer = Object(text, "tokenizer", "text.tokenizer");
        string vocab = ExistingFile(directory, tokenizer, "vocab", "text.tokenizer.vocab");
        string merges = ExistingFile(directory, tokenizer, "merges", "text.tokenizer.merges");
        string start = NonEmptyString(tokenizer, "startToken", "text.tokenizer.startToken");
        string end = NonEmptyString(tokenizer, "endToken", "text.tokenizer.endToken");
        int pad = Int(tokenizer, "padTokenId", "text.tokenizer.padTokenId");
        if (pad < 0) throw Error("text.tokenizer.padTokenId", $"must not be negative, got {pad}");
        bool lowercase = Bool(tokenizer, "lowercase", "text.tokenizer.lowercase");

        return new TextTowerSpec(onnx, contextLength, hasMask, new TokenizerSpec(vocab, merges, start, end, pad, lowercase));
    }

    private static string ExistingFile(string directory, JsonElement parent, string name, string field)
    {
        string relative = NonEmptyString(parent, name, field);
        if (Path.IsPathRooted(relative) || relative.Split('/', '\\').Contains(".."))
        {
            throw new ModelPackageException($"{Manifest}: field '{field}' must name a file inside the package, got '{relative}'.", field, relative);
        }

        if (!File.Exists(Path.Combine(directory, relative)))
        {
            throw new ModelPackageException($"{Manifest}: field '{field}' names '{relative}', which is missing from the package.", field, relative);
        }

        return relative;
    }

    private static float[] Rgb(JsonElement parent, string name, string field)
    {
        JsonElement array = Property(parent, name, field, JsonValueKind.Array);
        if (array.GetArrayLength() != 3) throw Error(field, $"must hold 3 numbers (r, g, b), got {array.GetArrayLength()}");
        var values = new float[3];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out values[i]) || !float.IsFinite(values[i]))
            {
                throw Error($"{field}[{i}]", "must be a finite number");
            }

            i++;
        }

        return values;
    }

    private static JsonElement Object(JsonElement parent, string name, string field) => Property(parent, name, field, JsonValueKind.Object);

    private static string NonEmptyString(JsonElement parent, string name, string field)
    {
        string value = Property(parent, name, field, JsonValueKind.String).GetString()!;
        if (string.IsNullOrWhiteSpace(value)) throw Error(field, "must not be empty");
        return value;
    }

    private static int Int(JsonElement parent, string name, string field)
    {
        JsonElement value = Property(parent, name, field, JsonValueKind.Number);
        if (!value.TryGetInt32(out int result)) throw Error(field, $"must be an integer, got {value.GetRawText()}");
        return result;
    }

    private static bool Bool(JsonElement parent, string name, string field)
    {
        if (!parent.TryGetProperty(name, out JsonElement value)) throw Error(field, "is missing");
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(field, $"must be true or false, got {value.GetRawText()}"),
        };
    }

    private static JsonElement Property(JsonElement parent, string name, string field, JsonValueKind kind)
    {
        if (!parent.TryGetProperty(name, out JsonElement value)) throw Error(field, "is missing");
        if (value.ValueKind != kind) throw Error(field, $"must be a JSON {kind.ToString().ToLowerInvariant()}, got {value.ValueKind.ToString().ToLowerInvariant()}");
        return value;
    }

    private static ModelPackageException Error(string field, string problem) =>
        new(field.Length == 0 ? $"{Manifest} {problem}." : $"{Manifest}: field '{field}' {problem}.", field, Manifest);
}
