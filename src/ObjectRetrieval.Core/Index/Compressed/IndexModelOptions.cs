namespace ObjectRetrieval.Core.Index.Compressed;

/// <summary>How an <see cref="IndexModel"/> is trained: IVF lists and the product quantiser of the residuals.</summary>
public sealed record IndexModelOptions
{
    /// <summary>IVF lists (coarse centroids).</summary>
    public int ListCount { get; init; } = 1024;

    /// <summary>Product sub-quantisers M; the dimension must be a multiple of it.</summary>
    public int SubQuantizers { get; init; } = 64;

    /// <summary>Bits per sub-quantiser: 4 (fast scan, M / 2 bytes per vector) or 8 (M bytes).</summary>
    public int Bits { get; init; } = 4;

    public int IvfIterations { get; init; } = 10;

    /// <summary>At most this many of the given vectors train the IVF k-means (all when fewer).</summary>
    public int IvfTrainingVectors { get; init; } = 131_072;

    /// <summary>
    /// k-means passes over every given vector after training on the subsample (each one assignment of all of
    /// them). A subsample holds few vectors of each natural cluster, so its centroids can cut clusters in two;
    /// these passes put them back together. The product quantiser is trained after them, on the final residuals.
    /// </summary>
    public int RefinementPasses { get; init; }

    public int PqIterations { get; init; } = 16;

    /// <summary>At most this many sample vectors train the product quantiser (all of the sample when fewer).</summary>
    public int PqTrainingVectors { get; init; } = 65_536;

    public int Seed { get; init; } = 1;

    /// <summary>Parses the command-line codec names pq16, pq32, pq64 (8 bits) and pq32x4, pq64x4 (4-bit fast scan).</summary>
    public static (int SubQuantizers, int Bits)? ParseCodec(string text)
    {
        string name = text.Trim().ToLowerInvariant();
        if (!name.StartsWith("pq", StringComparison.Ordinal)) return null;
        string[] parts = name[2..].Split('x');
        if (!int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m) || m <= 0
            || parts.Length > 2
            || (parts.Length == 2 && parts[1] is not ("4" or "8")))
        {
            throw new ArgumentException($"Unknown codec '{text}'; product-quantised codecs are pqM (8 bits) or pqMx4 (4-bit fast scan), e.g. pq32 or pq64x4.");
        }

        return (m, parts.Length == 2 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 8);
    }

    internal void Validate(int dimension)
    {
        if (ListCount < 1) throw new ArgumentOutOfRangeException(nameof(ListCount), ListCount, "The model needs at least one list.");
        if (SubQuantizers < 1 || dimension % SubQuantizers != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SubQuantizers), SubQuantizers, $"The dimension {dimension} must be a multiple of the sub-quantiser count.");
        }

        if (Bits is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(Bits), Bits, "Sub-quantisers have 4 or 8 bits.");
        if (Bits == 4 && SubQuantizers % 2 != 0) throw new ArgumentOutOfRangeException(nameof(SubQuantizers), SubQuantizers, "4-bit fast scan needs an even number of sub-quantisers.");
        if (IvfIterations < 0 || PqIterations < 0) throw new ArgumentOutOfRangeException(nameof(IvfIterations), "Iterations must not be negative.");
        if (RefinementPasses < 0) throw new ArgumentOutOfRangeException(nameof(RefinementPasses), RefinementPasses, "Must not be negative.");
        if (IvfTrainingVectors < ListCount) throw new ArgumentOutOfRangeException(nameof(IvfTrainingVectors), IvfTrainingVectors, $"Training {ListCount} lists needs at least as many vectors.");
        if (PqTrainingVectors < 1) throw new ArgumentOutOfRangeException(nameof(PqTrainingVectors), PqTrainingVectors, "Must be at least 1.");
    }
}
