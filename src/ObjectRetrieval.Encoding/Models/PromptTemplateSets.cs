using System.Security.Cryptography;

namespace ObjectRetrieval.Encoding.Models;

/// <summary>Built-in prompt-template ensembles that model.json can name instead of listing templates.</summary>
public static class PromptTemplateSets
{
    public const string ImageNet80Name = "imagenet80";

    /// <summary>The 80 ImageNet prompt templates of the CLIP paper (Radford et al., 2021), in its order.</summary>
    public static IReadOnlyList<string> ImageNet80 { get; } =
    [
        "a bad photo of a {}.",
        "a photo of many {}.",
        "a sculpture of a {}.",
        "a photo of the hard to see {}.",
        "a low resolution photo of the {}.",
        "a rendering of a {}.",
        "graffiti of a {}.",
        "a bad photo of the {}.",
        "a cropped photo of the {}.",
        "a tattoo of a {}.",
        "the embroidered {}.",
        "a photo of a hard to see {}.",
        "a bright photo of a {}.",
        "a photo of a clean {}.",
        "a photo of a dirty {}.",
        "a dark photo of the {}.",
        "a drawing of a {}.",
        "a photo of my {}.",
        "the plastic {}.",
        "a photo of the cool {}.",
        "a close-up photo of a {}.",
        "a black and white photo of the {}.",
        "a painting of the {}.",
        "a painting of a {}.",
        "a pixelated photo of the {}.",
        "a sculpture of the {}.",
        "a bright photo of the {}.",
        "a cropped photo of a {}.",
        "a plastic {}.",
        "a photo of the dirty {}.",
        "a jpeg corrupted photo of a {}.",
        "a blurry photo of the {}.",
        "a photo of the {}.",
        "a good photo of the {}.",
        "a rendering of the {}.",
        "a {} in a video game.",
        "a photo of one {}.",
        "a doodle of a {}.",
        "a close-up photo of the {}.",
        "a photo of a {}.",
        "the origami {}.",
        "the {} in a video game.",
        "a sketch of a {}.",
        "a doodle of the {}.",
        "a origami {}.",
        "a low resolution photo of a {}.",
        "the toy {}.",
        "a rendition of the {}.",
        "a photo of the clean {}.",
        "a photo of a large {}.",
        "a rendition of a {}.",
        "a photo of a nice {}.",
        "a photo of a weird {}.",
        "a blurry photo of a {}.",
        "a cartoon {}.",
        "art of a {}.",
        "a sketch of the {}.",
        "a embroidered {}.",
        "a pixelated photo of a {}.",
        "itap of the {}.",
        "a jpeg corrupted photo of the {}.",
        "a good photo of a {}.",
        "a plushie {}.",
        "a photo of the nice {}.",
        "a photo of the small {}.",
        "a photo of the weird {}.",
        "the cartoon {}.",
        "art of the {}.",
        "a drawing of the {}.",
        "a photo of the large {}.",
        "a black and white photo of a {}.",
        "the plushie {}.",
        "a dark photo of a {}.",
        "itap of a {}.",
        "graffiti of the {}.",
        "a toy {}.",
        "itap of my {}.",
        "a photo of a cool {}.",
        "a photo of a small {}.",
        "a tattoo of the {}.",
    ];

    /// <summary>The names model.json's <c>promptTemplates</c> may give instead of a list.</summary>
    public static IReadOnlyList<string> Names { get; } = [ImageNet80Name];

    /// <summary>The templates of a built-in set, or null when <paramref name="name"/> names none.</summary>
    public static IReadOnlyList<string>? Find(string name) => name switch
    {
        ImageNet80Name => ImageNet80,
        _ => null,
    };

    /// <summary>
    /// A short stable identity of a template list: the set's name for a built-in set, otherwise a hash of the
    /// templates, so caches of query vectors can tell ensembles apart.
    /// </summary>
    public static string Identity(IReadOnlyList<string> templates, string? setName)
    {
        if (setName is not null) return setName;
        byte[] hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', templates)));
        return $"list{templates.Count}-{Convert.ToHexStringLower(hash.AsSpan(0, 8))}";
    }
}
