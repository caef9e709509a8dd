using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Evaluation;

/// <summary>Knobs of <see cref="SyntheticDenseGenerator"/>; the defaults are the documented benchmark set.</summary>
public sealed record SyntheticDenseOptions
{
    public int Images { get; init; } = 2000;

    public ulong Seed { get; init; } = 7;

    public int Dimension { get; init; } = 128;

    /// <summary>Patch grid side: Grid × Grid patches per image.</summary>
    public int Grid { get; init; } = 16;

    /// <summary>Pixels per patch side, for the annotation boxes (COCO's small-object limit is in pixels).</summary>
    public int PatchPixels { get; init; } = 16;

    /// <summary>Norm of the isotropic noise added to every patch, relative to its unit semantic direction.</summary>
    public double Noise { get; init; } = 0.6;

    /// <summary>Weight of the direction all image embeddings share (CLIP embeddings sit in a narrow cone).</summary>
    public double SharedComponent { get; init; } = 1.0;

    public int BackgroundKinds { get; init; } = 12;

    /// <summary>Cosine between the directions of categories of one family (cat and dog, car and bus): hard negatives.</summary>
    public double FamilySimilarity { get; init; } = 0.6;

    /// <summary>Categories per family.</summary>
    public int FamilySize { get; init; } = 2;

    public int MaxObjectsPerImage { get; init; } = 3;

    /// <summary>Share of objects that cover only 1–3 patches (below 32×32 px at 16 px per patch).</summary>
    public double SmallObjectShare { get; init; } = 0.4;

    public void Validate()
    {
        if (Images < 1) throw new ArgumentOutOfRangeException(nameof(Images), Images, "Generate at least one image.");
        if (Dimension < 8) throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "Use at least 8 dimensions.");
        if (Grid is < 4 or > 64) throw new ArgumentOutOfRangeException(nameof(Grid), Grid, "Grid side must be between 4 and 64.");
        if (!(Noise >= 0)) throw new ArgumentOutOfRangeException(nameof(Noise), Noise, "Noise must be non-negative.");
        if (MaxObjectsPerImage < 1) throw new ArgumentOutOfRangeException(nameof(MaxObjectsPerImage), MaxObjectsPerImage, "At least one object per image.");
    }
}

/// <summary>
/// Generates dense CLIP-like features with known ground truth, no images needed. Each image is a patch
/// grid split into a few large background regions plus 1–3 objects of known categories, some covering a
/// single patch. A patch embedding is <c>shared·s + semantic direction + noise</c>; the global embedding is
/// the mean of the patches, so a small object barely moves it, as in CLIP. Text vectors sit near their
/// category's direction, offset by a text-side shared direction (CLIP's modality gap).
/// </summary>
public static class SyntheticDenseGenerator
{
    public static readonly string[] CategoryNames =
    [
        "person", "bicycle", "car", "dog", "cat", "bird", "bottle", "cup", "chair", "clock",
        "fire hydrant", "stop sign", "umbrella", "kite", "ball", "phone", "book", "vase", "scissors", "teddy bear",
    ];

    private static readonly (int W, int H)[] SmallShapes = [(1, 1), (1, 1), (2, 1), (1, 2), (3, 1)];

    public static DenseFeatureSet Generate(SyntheticDenseOptions options)
    {
        options.Validate();
        int d = options.Dimension;
        int g = options.Grid;
        int p = g * g;
        int categories = CategoryNames.Length;
        var world = new DeterministicRandom(options.Seed);
        float[] shared = RandomUnit(world, d);
        float[] sharedText = RandomUnit(world, d);
        float[][] categoryDirections = CategoryDirections(world, categories, d, options);
        float[][] backgroundDirections = Enumerable.Range(0, options.BackgroundKinds).Select(_ => RandomUnit(world, d)).ToArray();

        float[] text = new float[categories * d];
        for (int c = 0; c < categories; c++)
        {
            Span<float> t = text.AsSpan(c * d, d);
            for (int i = 0; i < d; i++) t[i] = (float)(sharedText[i] + categoryDirections[c][i] + 0.2 * world.NextGaussian() / Math.Sqrt(d));
        }

        int n = options.Images;
        float[] patches = new float[(long)n * p * d];
        float[] global = new float[n * d];
        var annotations = new List<CocoAnnotation>[n];
        Parallel.For(0, n, image =>
        {
            var random = new DeterministicRandom(options.Seed * 1_000_003UL + (ulong)image + 1);
            int[] region = LayOutBackground(random, g, options.BackgroundKinds, out int[] regionKinds);
            float[][] directions = new float[regionKinds.Length + options.MaxObjectsPerImage][];
            for (int r = 0; r < regionKinds.Length; r++) directions[r] = backgroundDirections[regionKinds[r]];

            annotations[image] = PlaceObjects(random, options, region, regionKinds.Length, image, categoryDirections, directions);

            Span<float> imagePatches = patches.AsSpan(image * p * d, p * d);
            Span<float> imageGlobal = global.AsSpan(image * d, d);
            double noiseScale = options.Noise / Math.Sqrt(d);
            for (int patch = 0; patch < p; patch++)
            {
                Span<float> v = imagePatches.Slice(patch * d, d);
                float[] direction = directions[region[patch]];
                for (int i = 0; i < d; i++)
                {
                    v[i] = (float)(options.SharedComponent * shared[i] + direction[i] + noiseScale * random.NextGaussian());
                }

                VectorMath.Normalize(v);
                for (int i = 0; i < d; i++) imageGlobal[i] += v[i] / p;
            }
        });

        var images = Enumerable.Range(0, n)
            .Select(i => new CocoImage(i + 1, $"synthetic-{i + 1:D6}.npy", g * options.PatchPixels, g * options.PatchPixels))
            .ToList();
        var cats = CategoryNames.Select((name, i) => new CocoCategory(i + 1, name)).ToList();
        long annotationId = 1;
        var allAnnotations = annotations.SelectMany(a => a).Select(a => a with { Id = annotationId++ }).ToList();
        var dataset = new CocoDataset(images, cats, allAnnotations);
        return new DenseFeatureSet(patches, global, images.Select(i => i.Id).ToArray(), text, p, d, g, g, dataset);
    }

    /// <summary>Families of categories share a direction, so that cos(member, member) ≈ FamilySimilarity.</summary>
    private static float[][] CategoryDirections(DeterministicRandom world, int categories, int d, SyntheticDenseOptions options)
    {
        double shared = Math.Sqrt(Math.Clamp(options.FamilySimilarity, 0, 1));
        double own = Math.Sqrt(1 - shared * shared);
        var result = new float[categories][];
        float[] family = RandomUnit(world, d);
        for (int c = 0; c < categories; c++)
        {
            if (c % Math.Max(1, options.FamilySize) == 0) family = RandomUnit(world, d);
            float[] mine = RandomUnit(world, d);
            result[c] = new float[d];
            for (int i = 0; i < d; i++) result[c][i] = (float)(shared * family[i] + own * mine[i]);
            VectorMath.Normalize(result[c]);
        }

        return result;
    }

    private static float[] RandomUnit(DeterministicRandom random, int d)
    {
        float[] v = new float[d];
        for (int i = 0; i < d; i++) v[i] = (float)random.NextGaussian();
        VectorMath.Normalize(v);
        return v;
    }

    /// <summary>2–4 large background regions: each patch joins its nearest region centre (a Voronoi split of the grid).</summary>
    private static int[] LayOutBackground(DeterministicRandom random, int g, int kinds, out int[] regionKinds)
    {
        int regions = random.Next(2, 5);
        regionKinds = new int[regions];
        var centres = new (double X, double Y)[regions];
        for (int r = 0; r < regions; r++)
        {
            regionKinds[r] = random.Next(kinds);
            centres[r] = (random.NextDouble() * g, random.NextDouble() * g);
        }

        int[] map = new int[g * g];
        for (int y = 0; y < g; y++)
        {
            for (int x = 0; x < g; x++)
            {
                int best = 0;
                double bestDistance = double.MaxValue;
                for (int r = 0; r < regions; r++)
                {
                    double dx = x + 0.5 - centres[r].X, dy = y + 0.5 - centres[r].Y;
                    double distance = dx * dx + dy * dy;
                    if (distance < bestDistance)
                    {
                        bestDistance = distance;
                        best = r;
                    }
                }

                map[y * g + x] = best;
            }
        }

        return map;
    }

    /// <summary>Places 1..max objects of distinct categories on non-overlapping patch rectangles; returns their annotations.</summary>
    private static List<CocoAnnotation> PlaceObjects(
        DeterministicRandom random, SyntheticDenseOptions options, int[] region, int regionCount, int image, float[][] categoryDirections, float[][] directions)
    {
        int g = options.Grid;
        int px = options.PatchPixels;
        var result = new List<CocoAnnotation>();
        bool[] taken = new bool[g * g];
        int objects = random.Next(1, options.MaxObjectsPerImage + 1);
        var used = new HashSet<int>();
        for (int o = 0; o < objects; o++)
        {
            int category;
            do category = random.Next(categoryDirections.Length); while (!used.Add(category));
            (int w, int h) = random.NextDouble() < options.SmallObjectShare
                ? SmallShapes[random.Next(SmallShapes.Length)]
                : (random.Next(2, Math.Max(3, g / 2)), random.Next(2, Math.Max(3, g / 2)));

            for (int attempt = 0; attempt < 50; attempt++)
            {
                int x0 = random.Next(g - w + 1), y0 = random.Next(g - h + 1);
                if (!Free(taken, g, x0, y0, w, h)) continue;
                int label = regionCount + result.Count;
                directions[label] = categoryDirections[category];
                for (int y = y0; y < y0 + h; y++)
                {
                    for (int x = x0; x < x0 + w; x++)
                    {
                        taken[y * g + x] = true;
                        region[y * g + x] = label;
                    }
                }

                result.Add(new CocoAnnotation(0, image + 1, category + 1, [x0 * px, y0 * px, w * px, h * px], (double)w * px * h * px));
                break;
            }
        }

        return result;
    }

    private static bool Free(bool[] taken, int g, int x0, int y0, int w, int h)
    {
        for (int y = y0; y < y0 + h; y++)
        {
            for (int x = x0; x < x0 + w; x++)
            {
                if (taken[y * g + x]) return false;
            }
        }

        return true;
    }
}
