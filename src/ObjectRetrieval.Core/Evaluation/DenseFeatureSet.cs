using System.Text.Json;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.IO;

namespace ObjectRetrieval.Core.Evaluation;

/// <summary>
/// Dense CLIP features extracted elsewhere, in the bring-your-own layout: <c>patches.npy</c> [N, P, D],
/// <c>global.npy</c> [N, D], <c>image_ids.json</c> (N COCO image ids in order) and <c>text.npy</c> [C, D]
/// (one query vector per category, in the annotation file's category order).
/// </summary>
public sealed class DenseFeatureSet
{
    public const string PatchesFile = "patches.npy";
    public const string GlobalFile = "global.npy";
    public const string ImageIdsFile = "image_ids.json";
    public const string TextFile = "text.npy";
    public const string AnnotationsFile = "annotations.json";

    public DenseFeatureSet(float[] patches, float[] global, long[] imageIds, float[] text, int patchCount, int dimension, int gridWidth, int gridHeight, CocoDataset dataset)
    {
        int n = imageIds.Length;
        if (patches.LongLength != (long)n * patchCount * dimension) throw new InvalidDataException($"{PatchesFile}: expected shape [{n}, {patchCount}, {dimension}].");
        if (global.Length != n * dimension) throw new InvalidDataException($"{GlobalFile}: expected shape [{n}, {dimension}] to match {PatchesFile}.");
        if (text.Length != dataset.Categories.Count * dimension)
        {
            throw new InvalidDataException($"{TextFile}: expected shape [{dataset.Categories.Count}, {dimension}] (one row per category of the annotations).");
        }

        if (gridWidth * gridHeight > patchCount) throw new InvalidDataException($"Grid {gridWidth}×{gridHeight} does not fit {patchCount} patches.");
        var known = dataset.Images.Select(i => i.Id).ToHashSet();
        long missing = imageIds.FirstOrDefault(id => !known.Contains(id), long.MinValue);
        if (missing != long.MinValue) throw new InvalidDataException($"{ImageIdsFile}: image id {missing} is not in the annotations.");
        if (imageIds.Distinct().Count() != n) throw new InvalidDataException($"{ImageIdsFile}: image ids repeat.");

        Patches = patches;
        Global = global;
        ImageIds = imageIds;
        Text = text;
        PatchCount = patchCount;
        Dimension = dimension;
        GridWidth = gridWidth;
        GridHeight = gridHeight;
        Dataset = dataset;
    }

    public float[] Patches { get; }

    public float[] Global { get; }

    public long[] ImageIds { get; }

    public float[] Text { get; }

    public int PatchCount { get; }

    public int Dimension { get; }

    public int GridWidth { get; }

    public int GridHeight { get; }

    public CocoDataset Dataset { get; }

    public int ImageCount => ImageIds.Length;

    /// <summary>The raw (not yet normalised) dense embeddings of image <paramref name="index"/>.</summary>
    public DenseEmbeddings Image(int index)
    {
        int size = PatchCount * Dimension;
        return new DenseEmbeddings(
            Patches.AsSpan(index * size, size).ToArray(),
            PatchCount,
            Dimension,
            Global.AsSpan(index * Dimension, Dimension).ToArray(),
            GridWidth,
            GridHeight);
    }

    public IReadOnlyList<EvaluationQuery> Queries() =>
        Dataset.Categories.Select((c, i) => new EvaluationQuery(c.Id, c.Name, Text.AsSpan(i * Dimension, Dimension).ToArray())).ToList();

    /// <summary>Loads the layout from <paramref name="directory"/>; the grid defaults to the square root of P when P is square, else 1 × P.</summary>
    public static DenseFeatureSet Load(string directory, string? annotationsPath = null, (int Width, int Height)? grid = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Dense-feature directory '{directory}' does not exist.");
        NpyArray patches = NpyFile.Read(Required(directory, PatchesFile));
        NpyArray global = NpyFile.Read(Required(directory, GlobalFile));
        NpyArray text = NpyFile.Read(Required(directory, TextFile));
        if (patches.Shape.Length != 3) throw new InvalidDataException($"{PatchesFile}: expected 3 dimensions [N, P, D], got ({string.Join(", ", patches.Shape)}).");
        if (global.Shape.Length != 2) throw new InvalidDataException($"{GlobalFile}: expected 2 dimensions [N, D].");
        if (text.Shape.Length != 2) throw new InvalidDataException($"{TextFile}: expected 2 dimensions [C, D].");
        string idsPath = Required(directory, ImageIdsFile);
        long[] ids;
        try
        {
            ids = JsonSerializer.Deserialize<long[]>(File.ReadAllText(idsPath)) ?? throw new InvalidDataException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{idsPath}: expected a JSON array of integer image ids: {e.Message}", e);
        }

        if (ids.Length != patches.Shape[0]) throw new InvalidDataException($"{ImageIdsFile} lists {ids.Length} ids but {PatchesFile} holds {patches.Shape[0]} images.");
        CocoDataset dataset = CocoDataset.Load(annotationsPath ?? Required(directory, AnnotationsFile));
        int p = patches.Shape[1];
        int side = (int)Math.Round(Math.Sqrt(p));
        var (w, h) = grid ?? (side * side == p ? (side, side) : (p, 1));
        return new DenseFeatureSet(patches.Data, global.Data, ids, text.Data, p, patches.Shape[2], w, h, dataset);
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        NpyFile.Write(Path.Combine(directory, PatchesFile), Patches, ImageCount, PatchCount, Dimension);
        NpyFile.Write(Path.Combine(directory, GlobalFile), Global, ImageCount, Dimension);
        NpyFile.Write(Path.Combine(directory, TextFile), Text, Dataset.Categories.Count, Dimension);
        File.WriteAllText(Path.Combine(directory, ImageIdsFile), JsonSerializer.Serialize(ImageIds));
        Dataset.Save(Path.Combine(directory, AnnotationsFile));
    }

    private static string Required(string directory, string file)
    {
        string path = Path.Combine(directory, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Missing {file} in '{directory}'.", path);
    }
}
