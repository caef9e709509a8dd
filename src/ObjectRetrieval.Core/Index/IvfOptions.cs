namespace ObjectRetrieval.Core.Index;

/// <summary>How an <see cref="IvfVectorIndex"/> trains its coarse quantiser.</summary>
public sealed record IvfOptions
{
    /// <summary>Inverted lists (nlist). Around 4·√vectors is a good start: 4096 for a million vectors.</summary>
    public int ListCount { get; init; } = 1024;

    /// <summary>Training uses ListCount × this many stored vectors (all of them when fewer are stored).</summary>
    public int TrainingSamplesPerList { get; init; } = 16;

    /// <summary>k-means iterations per level.</summary>
    public int Iterations { get; init; } = 8;

    /// <summary>
    /// k-means passes over every stored vector after training on the sample (each costs one
    /// assignment of all vectors). They mend clusters the sample cut in two.
    /// </summary>
    public int RefinementPasses { get; init; } = 2;

    /// <summary>Seeds the sample and k-means: the same vectors and seed give the same lists.</summary>
    public int Seed { get; init; } = 1;

    internal void Validate()
    {
        if (ListCount < 1) throw new ArgumentOutOfRangeException(nameof(ListCount), ListCount, "An IVF index needs at least one list.");
        if (TrainingSamplesPerList < 1) throw new ArgumentOutOfRangeException(nameof(TrainingSamplesPerList), TrainingSamplesPerList, "Must be at least 1.");
        if (RefinementPasses < 0) throw new ArgumentOutOfRangeException(nameof(RefinementPasses), RefinementPasses, "Must not be negative.");
        if (Iterations < 0) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "Must not be negative.");
    }
}
