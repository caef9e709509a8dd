using System.Text.Json;
using SkiaSharp;

namespace ObjectRetrieval.Demo;

/// <summary>One object placed in a scene: its category (COCO id = index + 1), box and pixel area.</summary>
public sealed record SceneObject(int CategoryIndex, SKRectI Box, double Area);

/// <summary>One generated image and what is in it.</summary>
public sealed record SceneImage(int Id, string FileName, int Width, int Height, IReadOnlyList<SceneObject> Objects);

/// <summary>Settings of the synthetic scenes.</summary>
public sealed record SceneOptions
{
    public int Count { get; init; } = 200;

    public int Seed { get; init; } = 1;

    public int MinSide { get; init; } = 320;

    public int MaxSide { get; init; } = 1024;

    /// <summary>Share of objects below COCO's small threshold (area under 32² px).</summary>
    public double SmallObjectShare { get; init; } = 0.6;

    /// <summary>Share of images written as PNG; the rest are JPEG.</summary>
    public double PngShare { get; init; } = 0.3;
}

/// <summary>
/// Synthetic scenes for the demo world: a textured grey background, a few large regions of distractor
/// colours, and category-coloured objects (many small, some large), with COCO-format annotations.
/// Everything follows from the seed.
/// </summary>
public static class SceneGenerator
{
    public const string AnnotationsFileName = "annotations.json";

    public static IReadOnlyList<SceneImage> Write(string directory, SceneOptions options)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(options.Seed);
        var images = new List<SceneImage>(options.Count);
        for (int id = 1; id <= options.Count; id++)
        {
            // One seed per image keeps each image stable when the count changes.
            var imageRandom = new Random(random.Next());
            images.Add(WriteScene(directory, id, imageRandom, options));
        }

        WriteAnnotations(Path.Combine(directory, AnnotationsFileName), images);
        return images;
    }

    private static SceneImage WriteScene(string directory, int id, Random random, SceneOptions options)
    {
        int width = random.Next(options.MinSide, options.MaxSide + 1);
        int height = random.Next(options.MinSide, options.MaxSide + 1);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        PaintBackground(bitmap, random);

        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill })
        {
            int regions = random.Next(1, 4);
            for (int i = 0; i < regions; i++)
            {
                NamedColour colour = ColourWorld.Distractors[random.Next(ColourWorld.Distractors.Count)];
                paint.Color = Jitter(colour, random, 12);
                float regionWidth = width * (float)(0.25 + random.NextDouble() * 0.35);
                float regionHeight = height * (float)(0.25 + random.NextDouble() * 0.35);
                float left = (float)random.NextDouble() * (width - regionWidth);
                float top = (float)random.NextDouble() * (height - regionHeight);
                DrawShape(canvas, paint, new SKRect(left, top, left + regionWidth, top + regionHeight), random.Next(2) == 0);
            }

            var objects = new List<SceneObject>();
            var placed = new List<SKRectI>();
            int count = random.Next(0, 6);
            for (int i = 0; i < count; i++)
            {
                int category = random.Next(ColourWorld.Categories.Count);
                (int objectWidth, int objectHeight) = ObjectSize(random, options, width, height);
                if (!TryPlace(random, width, height, objectWidth, objectHeight, placed, out SKRectI box)) continue;
                bool ellipse = random.Next(2) == 0;
                paint.Color = Jitter(ColourWorld.Categories[category], random, 8);
                DrawShape(canvas, paint, box, ellipse);
                double area = ellipse ? Math.PI / 4 * box.Width * box.Height : box.Width * box.Height;
                objects.Add(new SceneObject(category, box, Math.Round(area, 1)));
                placed.Add(box);
            }

            bool png = random.NextDouble() < options.PngShare;
            string fileName = $"scene-{id:D5}.{(png ? "png" : "jpg")}";
            using SKData data = bitmap.Encode(png ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, png ? 100 : 90);
            File.WriteAllBytes(Path.Combine(directory, fileName), data.ToArray());
            return new SceneImage(id, fileName, width, height, objects);
        }
    }

    /// <summary>A grey base with low-frequency blotches and per-pixel noise: texture without colour.</summary>
    private static void PaintBackground(SKBitmap bitmap, Random random)
    {
        int width = bitmap.Width;
        int height = bitmap.Height;
        int baseGrey = random.Next(95, 171);
        const int Cell = 32;
        int cellsX = width / Cell + 2;
        int cellsY = height / Cell + 2;
        var blotches = new int[cellsX * cellsY];
        for (int i = 0; i < blotches.Length; i++) blotches[i] = random.Next(-18, 19);

        Span<byte> pixels = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                // Bilinear blend of the four surrounding blotch values.
                float fx = (float)x / Cell;
                float fy = (float)y / Cell;
                int cx = (int)fx;
                int cy = (int)fy;
                float tx = fx - cx;
                float ty = fy - cy;
                float blotch = (1 - ty) * ((1 - tx) * blotches[cy * cellsX + cx] + tx * blotches[cy * cellsX + cx + 1])
                    + ty * ((1 - tx) * blotches[(cy + 1) * cellsX + cx] + tx * blotches[(cy + 1) * cellsX + cx + 1]);
                int grey = Math.Clamp(baseGrey + (int)blotch + random.Next(-10, 11), 0, 255);
                int offset = (y * width + x) * 4;
                pixels[offset] = (byte)grey;
                pixels[offset + 1] = (byte)grey;
                pixels[offset + 2] = (byte)grey;
                pixels[offset + 3] = 255;
            }
        }
    }

    private static (int Width, int Height) ObjectSize(Random random, SceneOptions options, int imageWidth, int imageHeight)
    {
        double kind = random.NextDouble();
        if (kind < options.SmallObjectShare)
        {
            // Small: both sides 12–31 px and area below 32².
            int w = random.Next(12, 32);
            int h = Math.Min(random.Next(12, 32), (1024 - 1) / w);
            return (w, Math.Max(12, h));
        }

        int maxSide = Math.Min(imageWidth, imageHeight) / 2;
        if (kind < options.SmallObjectShare + (1 - options.SmallObjectShare) * 0.6)
        {
            return (random.Next(40, 96), random.Next(40, 96));
        }

        return (random.Next(100, Math.Max(101, maxSide)), random.Next(100, Math.Max(101, maxSide)));
    }

    private static bool TryPlace(Random random, int width, int height, int objectWidth, int objectHeight, List<SKRectI> placed, out SKRectI box)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int left = random.Next(2, Math.Max(3, width - objectWidth - 2));
            int top = random.Next(2, Math.Max(3, height - objectHeight - 2));
            box = new SKRectI(left, top, left + objectWidth, top + objectHeight);
            if (box.Right > width || box.Bottom > height) continue;
            SKRectI candidate = box;
            if (!placed.Any(other => SKRectI.Inflate(other, 4, 4).IntersectsWith(candidate))) return true;
        }

        box = default;
        return false;
    }

    private static void DrawShape(SKCanvas canvas, SKPaint paint, SKRect bounds, bool ellipse)
    {
        if (ellipse) canvas.DrawOval(bounds, paint);
        else canvas.DrawRect(bounds, paint);
    }

    private static SKColor Jitter(NamedColour colour, Random random, int amount) => new(
        (byte)Math.Clamp(colour.R + random.Next(-amount, amount + 1), 0, 255),
        (byte)Math.Clamp(colour.G + random.Next(-amount, amount + 1), 0, 255),
        (byte)Math.Clamp(colour.B + random.Next(-amount, amount + 1), 0, 255));

    private static void WriteAnnotations(string path, IReadOnlyList<SceneImage> images)
    {
        using FileStream stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteStartObject("info");
        writer.WriteString("description", "objret synthetic colour scenes");
        writer.WriteEndObject();

        writer.WriteStartArray("images");
        foreach (SceneImage image in images)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", image.Id);
            writer.WriteString("file_name", image.FileName);
            writer.WriteNumber("width", image.Width);
            writer.WriteNumber("height", image.Height);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("categories");
        for (int c = 0; c < ColourWorld.Categories.Count; c++)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", c + 1);
            writer.WriteString("name", ColourWorld.Categories[c].Name);
            writer.WriteString("supercategory", "colour");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("annotations");
        int annotationId = 1;
        foreach (SceneImage image in images)
        {
            foreach (SceneObject obj in image.Objects)
            {
                writer.WriteStartObject();
                writer.WriteNumber("id", annotationId++);
                writer.WriteNumber("image_id", image.Id);
                writer.WriteNumber("category_id", obj.CategoryIndex + 1);
                writer.WriteStartArray("bbox");
                writer.WriteNumberValue(obj.Box.Left);
                writer.WriteNumberValue(obj.Box.Top);
                writer.WriteNumberValue(obj.Box.Width);
                writer.WriteNumberValue(obj.Box.Height);
                writer.WriteEndArray();
                writer.WriteNumber("area", obj.Area);
                writer.WriteNumber("iscrowd", 0);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
