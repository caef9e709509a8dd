using System.Text.Json;
using System.Text.Json.Serialization;

namespace ObjectRetrieval.Core.Evaluation;

public sealed record CocoImage(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("file_name")] string FileName,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height);

public sealed record CocoCategory(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name);

public sealed record CocoAnnotation(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("image_id")] long ImageId,
    [property: JsonPropertyName("category_id")] long CategoryId,
    [property: JsonPropertyName("bbox")] double[] Bbox,
    [property: JsonPropertyName("area")] double Area,
    [property: JsonPropertyName("iscrowd")] int IsCrowd = 0);

/// <summary>A COCO-format instance annotation file (COCO, LVIS, converted nuImages): images, categories, annotations.</summary>
public sealed class CocoDataset
{
    /// <summary>COCO's "small" object: area below 32×32 pixels.</summary>
    public const double SmallAreaLimit = 32 * 32;

    public CocoDataset(IReadOnlyList<CocoImage> images, IReadOnlyList<CocoCategory> categories, IReadOnlyList<CocoAnnotation> annotations)
    {
        Images = images;
        Categories = categories;
        Annotations = annotations;
        var imageIds = new HashSet<long>();
        foreach (CocoImage image in images)
        {
            if (!imageIds.Add(image.Id)) throw new InvalidDataException($"Image id {image.Id} appears twice.");
        }

        var categoryIds = new HashSet<long>();
        foreach (CocoCategory category in categories)
        {
            if (!categoryIds.Add(category.Id)) throw new InvalidDataException($"Category id {category.Id} appears twice.");
        }

        foreach (CocoAnnotation a in annotations)
        {
            if (!imageIds.Contains(a.ImageId)) throw new InvalidDataException($"Annotation {a.Id} names unknown image {a.ImageId}.");
            if (!categoryIds.Contains(a.CategoryId)) throw new InvalidDataException($"Annotation {a.Id} names unknown category {a.CategoryId}.");
            if (a.Bbox is not { Length: 4 }) throw new InvalidDataException($"Annotation {a.Id} needs a bbox of 4 numbers [x, y, width, height].");
            if (!(a.Area >= 0)) throw new InvalidDataException($"Annotation {a.Id} has a negative or missing area.");
        }
    }

    public IReadOnlyList<CocoImage> Images { get; }

    public IReadOnlyList<CocoCategory> Categories { get; }

    public IReadOnlyList<CocoAnnotation> Annotations { get; }

    public static CocoDataset Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var file = JsonSerializer.Deserialize<CocoFile>(stream)
                ?? throw new InvalidDataException("the file holds JSON null.");
            return new CocoDataset(
                file.Images ?? throw new InvalidDataException("missing 'images'."),
                file.Categories ?? throw new InvalidDataException("missing 'categories'."),
                file.Annotations ?? throw new InvalidDataException("missing 'annotations'."));
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: not a valid COCO annotation file: {e.Message}", e);
        }
    }

    public void Save(string path)
    {
        using var stream = File.Create(path);
        JsonSerializer.Serialize(stream, new CocoFile { Images = [.. Images], Categories = [.. Categories], Annotations = [.. Annotations] });
    }

    private sealed class CocoFile
    {
        [JsonPropertyName("images")]
        public List<CocoImage>? Images { get; set; }

        [JsonPropertyName("categories")]
        public List<CocoCategory>? Categories { get; set; }

        [JsonPropertyName("annotations")]
        public List<CocoAnnotation>? Annotations { get; set; }
    }
}
