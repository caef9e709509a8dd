namespace ObjectRetrieval.Demo;

/// <summary>
/// Every number of the demo model, derived from a seed. The image tower softly assigns each pixel to
/// the colour prototypes, averages the assignments per patch and projects them with
/// <see cref="Projection"/>; the text tower sums token rows of <see cref="TokenTable"/> (category words
/// are one-hot on their prototype) and projects them the same way, so "red" and red pixels meet.
/// </summary>
public sealed class DemoModelWeights
{
    private DemoModelWeights(int imageSize, int patchSize, int dimension, float temperature, float[] prototypes, float[] projection, DemoVocabulary vocabulary, float[] tokenTable)
    {
        ImageSize = imageSize;
        PatchSize = patchSize;
        Dimension = dimension;
        Temperature = temperature;
        Prototypes = prototypes;
        Projection = projection;
        Vocabulary = vocabulary;
        TokenTable = tokenTable;
    }

    /// <summary>CLIP's normalisation constants: the demo model keeps the same contract as real exports.</summary>
    public static float[] Mean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    public static float[] Std { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    public int ImageSize { get; }

    public int PatchSize { get; }

    /// <summary>Side of the cells whose mean colour is assigned to prototypes (divides the patch size).</summary>
    public int CellSize => PatchSize % 4 == 0 ? 4 : 1;

    public int Dimension { get; }

    /// <summary>Softmax temperature on squared RGB distance in [0,1] units.</summary>
    public float Temperature { get; }

    public int PrototypeCount => ColourWorld.Prototypes.Count;

    /// <summary>PrototypeCount × 3 sRGB values in [0, 1].</summary>
    public float[] Prototypes { get; }

    /// <summary>PrototypeCount × Dimension: the direction of each prototype in the joint space (unit rows).</summary>
    public float[] Projection { get; }

    public DemoVocabulary Vocabulary { get; }

    /// <summary>VocabularySize × PrototypeCount: what each token contributes before projection.</summary>
    public float[] TokenTable { get; }

    /// <summary>Weight of each filler token on every prototype: present but small, so templates do not drown the category word.</summary>
    public const float FillerWeight = 0.005f;

    /// <summary>How strongly a distractor's direction leans towards the categories it resembles.</summary>
    public const float LookAlikeWeight = 0.45f;

    /// <summary>A component shared by all directions (real joint spaces are far from orthogonal).</summary>
    public const float SharedWeight = 0.5f;

    /// <summary>Attention logit per unit of assignment overlap: patches of one colour attend to each other, not to others.</summary>
    public const float AttentionScale = 10f;

    /// <summary>Height of naclip's Gaussian neighbourhood bias on the attention logits.</summary>
    public const float NeighbourhoodWeight = 3f;

    /// <summary>Width (in patches) of naclip's Gaussian neighbourhood bias.</summary>
    public const float NeighbourhoodSigma = 1.5f;

    public static DemoModelWeights Create(int imageSize = 448, int patchSize = 16, int dimension = 64, int seed = 17, float temperature = 0.004f)
    {
        int k = ColourWorld.Prototypes.Count;
        if (dimension < k + 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Needs at least {k + 1} dimensions for {k} prototypes.");

        var prototypes = new float[k * 3];
        for (int i = 0; i < k; i++)
        {
            NamedColour colour = ColourWorld.Prototypes[i];
            prototypes[i * 3] = colour.R / 255f;
            prototypes[i * 3 + 1] = colour.G / 255f;
            prototypes[i * 3 + 2] = colour.B / 255f;
        }

        float[] basis = OrthonormalBasis(k + 1, dimension, seed);
        ReadOnlySpan<float> shared = basis.AsSpan(k * dimension, dimension);
        var projection = new float[k * dimension];
        for (int i = 0; i < k; i++)
        {
            Span<float> row = projection.AsSpan(i * dimension, dimension);
            basis.AsSpan(i * dimension, dimension).CopyTo(row);
            if (ColourWorld.LookAlikes.TryGetValue(ColourWorld.Prototypes[i].Name, out string[]? partners))
            {
                foreach (string partner in partners)
                {
                    int p = ColourWorld.CategoryIndex(partner);
                    AddScaled(row, basis.AsSpan(p * dimension, dimension), LookAlikeWeight);
                }
            }

            AddScaled(row, shared, SharedWeight);
            Normalize(row);
        }

        var words = ColourWorld.Categories.Select(c => c.Name).Concat(DemoVocabulary.FillerWords).ToList();
        DemoVocabulary vocabulary = DemoVocabulary.Build(words);
        var tokenTable = new float[vocabulary.Count * k];
        foreach ((string token, int id) in vocabulary.Vocabulary)
        {
            if (token is DemoVocabulary.StartToken or DemoVocabulary.EndToken || id == 0) continue; // id 0 pads
            tokenTable.AsSpan(id * k, k).Fill(FillerWeight);
        }

        for (int c = 0; c < ColourWorld.Categories.Count; c++)
        {
            Span<float> row = tokenTable.AsSpan(vocabulary.WordId(ColourWorld.Categories[c].Name) * k, k);
            row.Clear();
            row[c] = 1f;
        }

        return new DemoModelWeights(imageSize, patchSize, dimension, temperature, prototypes, projection, vocabulary, tokenTable);
    }

    /// <summary>Gram–Schmidt on seeded Gaussian vectors: <paramref name="count"/> orthonormal rows.</summary>
    private static float[] OrthonormalBasis(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var basis = new double[count * dimension];
        for (int r = 0; r < count; r++)
        {
            Span<double> row = basis.AsSpan(r * dimension, dimension);
            for (int d = 0; d < dimension; d++)
            {
                // Box–Muller
                double u1 = 1.0 - random.NextDouble();
                double u2 = random.NextDouble();
                row[d] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            }

            for (int p = 0; p < r; p++)
            {
                ReadOnlySpan<double> previous = basis.AsSpan(p * dimension, dimension);
                double dot = 0;
                for (int d = 0; d < dimension; d++) dot += row[d] * previous[d];
                for (int d = 0; d < dimension; d++) row[d] -= dot * previous[d];
            }

            double norm = 0;
            for (int d = 0; d < dimension; d++) norm += row[d] * row[d];
            norm = Math.Sqrt(norm);
            for (int d = 0; d < dimension; d++) row[d] /= norm;
        }

        return basis.Select(v => (float)v).ToArray();
    }

    private static void AddScaled(Span<float> target, ReadOnlySpan<float> source, float scale)
    {
        for (int i = 0; i < target.Length; i++) target[i] += scale * source[i];
    }

    private static void Normalize(Span<float> row)
    {
        float norm = 0;
        foreach (float v in row) norm += v * v;
        norm = MathF.Sqrt(norm);
        for (int i = 0; i < row.Length; i++) row[i] /= norm;
    }
}
