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

    /// <summary>Number of object categories (query texts).</summary>
    public int Categories { get; init; } = 20;

    /// <summary>Norm of the isotropic noise added to every patch, relative to its unit semantic direction.</summary>
    public double Noise { get; init; } = 0.6;

    /// <summary>Weight of the direction all image embeddings share (CLIP embeddings sit in a narrow cone).</summary>
    public double SharedComponent { get; init; } = 1.0;

    public int BackgroundKinds { get; init; } = 12;

    /// <summary>Cosine between the directions of categories of one family (cat and dog, car and bus): hard negatives.</summary>
    public double FamilySimilarity { get; init; } = 0.6;

    /// <summary>Categories per family.</summary>
    public int FamilySize { get; init; } = 2;

    /// <summary>Share of the categories that belong to a family of similar ones; the rest stand alone.</summary>
    public double FamilyShare { get; init; } = 1.0;

    /// <summary>
    /// How far each category leans towards a background of its own (boats on water, cows on grass): its direction
    /// mixes in that background's with this weight, and an object of it sits in an image showing that background
    /// with this probability. 0 keeps categories independent of backgrounds.
    /// </summary>
    public double BackgroundLean { get; init; }

    /// <summary>Norm of the random offset between a category's text vector and its image direction (imperfect alignment).</summary>
    public double TextMisalignment { get; init; } = 0.2;

    /// <summary>Share of each patch's semantic signal that comes from its four neighbours (ViT context bleeding).</summary>
    public double NeighbourBleed { get; init; }

    /// <summary>
    /// The global embedding weights each region by its patch count to this power on top of plain averaging:
    /// 0 is the mean of the patches, 1 lets large regions dominate as CLIP's pooled token does.
    /// </summary>
    public double GlobalLargeRegionBias { get; init; }

    public int MaxObjectsPerImage { get; init; } = 3;

    /// <summary>Share of objects that are small (1 to <see cref="SmallObjectMaxPatches"/> patches).</summary>
    public double SmallObjectShare { get; init; } = 0.4;

    /// <summary>Largest small object in patches (1–4); at 16 px per patch, 4 patches are no longer COCO-small.</summary>
    public int SmallObjectMaxPatches { get; init; } = 3;

    public void Validate()
    {
        if (Images < 1) throw new ArgumentOutOfRangeException(nameof(Images), Images, "Generate at least one image.");
        if (Dimension < 8) throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "Use at least 8 dimensions.");
        if (Grid is < 4 or > 64) throw new ArgumentOutOfRangeException(nameof(Grid), Grid, "Grid side must be between 4 and 64.");
        if (!(Noise >= 0)) throw new ArgumentOutOfRangeException(nameof(Noise), Noise, "Noise must be non-negative.");
        if (MaxObjectsPerImage < 1) throw new ArgumentOutOfRangeException(nameof(MaxObjectsPerImage), MaxObjectsPerImage, "At least one object per image.");
        if (Categories < MaxObjectsPerImage) throw new ArgumentOutOfRangeException(nameof(Categories), Categories, "Need at least as many categories as objects per image.");
        if (BackgroundKinds < 1) throw new ArgumentOutOfRangeException(nameof(BackgroundKinds), BackgroundKinds, "At least one background kind.");
        if (!(FamilyShare is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(FamilyShare), FamilyShare, "A share lies between 0 and 1.");
        if (!(BackgroundLean is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(BackgroundLean), BackgroundLean, "A lean lies between 0 and 1.");
        if (!(NeighbourBleed is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(NeighbourBleed), NeighbourBleed, "Bleeding lies in [0, 1).");
        if (!(TextMisalignment >= 0)) throw new ArgumentOutOfRangeException(nameof(TextMisalignment), TextMisalignment, "Misalignment must be non-negative.");
        if (!(GlobalLargeRegionBias >= 0)) throw new ArgumentOutOfRangeException(nameof(GlobalLargeRegionBias), GlobalLargeRegionBias, "The bias must be non-negative.");
        if (SmallObjectMaxPatches is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(SmallObjectMaxPatches), SmallObjectMaxPatches, "Small objects cover 1 to 4 patches.");
    }
}

/// <summary>
/// Generates dense CLIP-like features with known ground truth, no images needed. Each image is a patch
/// grid split into a few large background regions plus objects of known categories, some covering a
/// single patch. A patch embedding is <c>shared·s + semantic direction + noise</c>, the semantic part
/// optionally bleeding in from the neighbours; the global embedding is a (large-region weighted) mean
/// of the patches, so a small object barely moves it, as in CLIP. Text vectors sit near their category's
/// direction, offset by a text-side shared direction (CLIP's modality gap) and a per-category misalignment.
/// </summary>
public static class SyntheticDenseGenerator
{
    private static readonly string[] KnownNames =
    [
        "person", "bicycle", "car", "dog", "cat", "bird", "bottle", "cup", "chair", "clock",
        "fire hydrant", "stop sign", "umbrella", "kite", "ball", "phone", "book", "vase", "scissors", "teddy bear",
        "horse", "sheep", "cow", "boat", "bench", "backpack", "handbag", "laptop", "toaster", "pizza",
    ];

    /// <summary>The first 20 category names (the default category count).</summary>
    public static IReadOnlyList<string> CategoryNames { get; } = KnownNames[..20];

    private static readonly (int W, int H)[][] SmallShapesByPatches =
    [
        [(1, 1)],
        [(2, 1), (1, 2)],
        [(3, 1), (1, 3)],
        [(2, 2), (4, 1), (1, 4)],
    ];

    public static string CategoryName(int index) => index < KnownNames.Length ? KnownNames[index] : $"category {index + 1}";

    public static DenseFeatureSet Generate(SyntheticDenseOptions options)
    {
        options.Validate();
        int d = options.Dimension;
        int g = options.Grid;
        int p = g * g;
        int categories = options.Categories;
        var world = new DeterministicRandom(options.Seed);
        float[] shared = RandomUnit(world, d);
        float[] sharedText = RandomUnit(world, d);
        float[][] backgroundDirections = Enumerable.Range(0, options.BackgroundKinds).Select(_ => RandomUnit(world, d)).ToArray();
        int[] favouriteBackground = Enumerable.Range(0, categories).Select(_ => world.Next(options.BackgroundKinds)).ToArray();
        float[][] categoryDirections = CategoryDirections(world, d, options, backgroundDirections, favouriteBackground);

        float[] text = new float[categories * d];
        for (int c = 0; c < categories; c++)
        {
            Span<float> t = text.AsSpan(c * d, d);
            float[] offset = RandomUnit(world, d);
            for (int i = 0; i < d; i++) t[i] = (float)(sharedText[i] + categoryDirections[c][i] + options.TextMisalignment * offset[i]);
        }

        int n = options.Images;
        float[] patches = new float[(long)n * p * d];
        float[] global = new float[n * d];
        var annotations = new List<CocoAnnotation>[n];
        Parallel.For(0, n, image =>
        {
            var random = new DeterministicRandom(options.Seed * 1_000_003UL + (ulong)image + 1);
            int[] objectCategories = DrawCategories(random, options);
            int[] region = LayOutBackground(random, g, options, objectCategories, favouriteBackground, out int[] regionKinds);
            float[][] directions = new float[regionKinds.Length + objectCategories.Length][];
            for (int r = 0; r < regionKinds.Length; r++) directions[r] = backgroundDirections[regionKinds[r]];

            annotations[image] = PlaceObjects(random, options, objectCategories, region, regionKinds.Length, image, categoryDirections, directions);
            WritePatches(random, options, region, directions, shared, patches.AsSpan(image * p * d, p * d), global.AsSpan(image * d, d));
        });

        var images = Enumerable.Range(0, n)
            .Select(i => new CocoImage(i + 1, $"synthetic-{i + 1:D6}.npy", g * options.PatchPixels, g * options.PatchPixels))
            .ToList();
        var cats = Enumerable.Range(0, categories).Select(i => new CocoCategory(i + 1, CategoryName(i))).ToList();
        long annotationId = 1;
        var allAnnotations = annotations.SelectMany(a => a).Select(a => a with { Id = annotationId++ }).ToList();
        var dataset = new CocoDataset(images, cats, allAnnotations);
        return new DenseFeatureSet(patches, global, images.Select(i => i.Id).ToArray(), text, p, d, g, g, dataset);
    }

    /// <summary>Patch = shared + (own direction, partly bled from the 4-neighbourhood) + noise; global = region-weighted mean.</summary>
    private static void WritePatches(
        DeterministicRandom random, SyntheticDenseOptions options, int[] region, float[][] directions, float[] shared, Span<float> imagePatches, Span<float> imageGlobal)
    {
        int g = options.Grid;
        int p = g * g;
        int d = options.Dimension;
        double noiseScale = options.Noise / Math.Sqrt(d);
        int[] regionSize = new int[directions.Length];
        foreach (int r in region) regionSize[r]++;
        double[] weight = regionSize.Select(s => s == 0 ? 0 : Math.Pow(s, options.GlobalLargeRegionBias)).ToArray();
        double totalWeight = region.Sum(r => weight[r]);
        float[] signal = new float[d];
        for (int patch = 0; patch < p; patch++)
        {
            int x = patch % g, y = patch / g;
            Array.Clear(signal);
            Accumulate(signal, directions[region[patch]], 1 - options.NeighbourBleed);
            if (options.NeighbourBleed > 0)
            {
                int[] neighbours = [x > 0 ? patch - 1 : -1, x < g - 1 ? patch + 1 : -1, y > 0 ? patch - g : -1, y < g - 1 ? patch + g : -1];
                int present = neighbours.Count(q => q >= 0);
                foreach (int q in neighbours)
                {
                    if (q >= 0) Accumulate(signal, directions[region[q]], options.NeighbourBleed / present);
                }
            }

            Span<float> v = imagePatches.Slice(patch * d, d);
            for (int i = 0; i < d; i++) v[i] = (float)(options.SharedComponent * shared[i] + signal[i] + noiseScale * random.NextGaussian());
            VectorMath.Normalize(v);
            float w = (float)(weight[region[patch]] / totalWeight);
            for (int i = 0; i < d; i++) imageGlobal[i] += v[i] * w;
        }
    }

    private static void Accumulate(float[] sum, float[] direction, double weight)
    {
        for (int i = 0; i < sum.Length; i++) sum[i] += (float)(weight * direction[i]);
    }

    /// <summary>
    /// The first FamilyShare of the categories form families sharing a direction, so that cos(member, member) ≈
    /// FamilySimilarity; each category then leans towards its favourite background by BackgroundLean.
    /// </summary>
    private static float[][] CategoryDirections(DeterministicRandom world, int d, SyntheticDenseOptions options, float[][] backgrounds, int[] favourite)
    {
        int categories = options.Categories;
        double shared = Math.Sqrt(Math.Clamp(options.FamilySimilarity, 0, 1));
        double own = Math.Sqrt(1 - shared * shared);
        int familySize = Math.Max(1, options.FamilySize);
        int inFamilies = (int)Math.Round(categories * options.FamilyShare / familySize) * familySize;
        var result = new float[categories][];
        float[] family = RandomUnit(world, d);
        for (int c = 0; c < categories; c++)
        {
            if (c % familySize == 0) family = RandomUnit(world, d);
            float[] mine = RandomUnit(world, d);
            result[c] = new float[d];
            bool member = c < inFamilies;
            for (int i = 0; i < d; i++)
            {
                double semantic = member ? shared * family[i] + own * mine[i] : mine[i];
                result[c][i] = (float)(semantic + options.BackgroundLean * backgrounds[favourite[c]][i]);
            }

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

    private static int[] DrawCategories(DeterministicRandom random, SyntheticDenseOptions options)
    {
        int objects = random.Next(1, options.MaxObjectsPerImage + 1);
        var used = new List<int>(objects);
        while (used.Count < objects)
        {
            int category = random.Next(options.Categories);
            if (!used.Contains(category)) used.Add(category);
        }

        return [.. used];
    }

    /// <summary>
    /// 2–4 large background regions: each patch joins its nearest region centre (a Voronoi split of the grid).
    /// With a background lean, the first object's favourite background is likely among them.
    /// </summary>
    private static int[] LayOutBackground(DeterministicRandom random, int g, SyntheticDenseOptions options, int[] objectCategories, int[] favourite, out int[] regionKinds)
    {
        int regions = random.Next(2, 5);
        regionKinds = new int[regions];
        var centres = new (double X, double Y)[regions];
        for (int r = 0; r < regions; r++)
        {
            regionKinds[r] = random.Next(options.BackgroundKinds);
            centres[r] = (random.NextDouble() * g, random.NextDouble() * g);
        }

        if (random.NextDouble() < options.BackgroundLean) regionKinds[0] = favourite[objectCategories[0]];

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

    /// <summary>Places the objects on non-overlapping patch rectangles; returns their annotations.</summary>
    private static List<CocoAnnotation> PlaceObjects(
        DeterministicRandom random, SyntheticDenseOptions options, int[] objectCategories, int[] region, int regionCount, int image, float[][] categoryDirections, float[][] directions)
    {
        int g = options.Grid;
        int px = options.PatchPixels;
        var result = new List<CocoAnnotation>();
        bool[] taken = new bool[g * g];
        foreach (int category in objectCategories)
        {
            (int w, int h) = random.NextDouble() < options.SmallObjectShare ? SmallShape(random, options.SmallObjectMaxPatches) : (random.Next(2, Math.Max(3, g / 2)), random.Next(2, Math.Max(3, g / 2)));
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

    /// <summary>A small object's shape: its patch count uniform in 1..max, then one of the shapes of that many patches.</summary>
    private static (int W, int H) SmallShape(DeterministicRandom random, int maxPatches)
    {
        (int W, int H)[] shapes = SmallShapesByPatches[random.Next(maxPatches)];
        return shapes[random.Next(shapes.Length)];
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
