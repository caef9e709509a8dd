using System.Numerics.Tensors;

using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index;

/// <summary>Argument checks shared by every index, so all of them fail the same way with the same words.</summary>
internal static class IndexGuards
{
    public static void Query(ReadOnlySpan<float> query, int dimension, int k)
    {
        if (query.Length != dimension)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions; this index holds {dimension}-dimensional vectors.", nameof(query));
        }

        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");

        // NaN and infinities survive a sum: one vectorised pass in the common case.
        if (!float.IsFinite(TensorPrimitives.Sum(query)))
        {
            throw new ArgumentException("The query holds a NaN or infinite value.", nameof(query));
        }
    }

    public static void Upsert(string imageId, ReadOnlySpan<float> vectors, int vectorCount, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageId);
        if (vectorCount <= 0) throw new ArgumentOutOfRangeException(nameof(vectorCount), vectorCount, $"Image '{imageId}' needs at least one vector.");
        if (vectors.Length != (long)vectorCount * dimension)
        {
            throw new ArgumentException(
                $"Image '{imageId}': {vectors.Length} values given for {vectorCount} vectors of dimension {dimension} (expected {(long)vectorCount * dimension}).",
                nameof(vectors));
        }

        for (int v = 0; v < vectorCount; v++)
        {
            if (!float.IsFinite(TensorPrimitives.Sum(vectors.Slice(v * dimension, dimension))))
            {
                throw new ArgumentException($"Image '{imageId}': vector {v} holds a NaN or infinite value.", nameof(vectors));
            }
        }
    }
}

/// <summary>Per-thread buffers of the search path, so concurrent searches share nothing and allocate almost nothing.</summary>
internal sealed class SearchScratch
{
    [ThreadStatic]
    private static SearchScratch? s_current;

    private float[] _scores = [];
    private float[] _coarseScores = [];

    private SearchScratch(int dimension) => Query = new PreparedQuery(dimension);

    public PreparedQuery Query { get; }

    public ImageTopK Top { get; } = new();

    public int[] Lists { get; set; } = [];

    public static SearchScratch For(int dimension)
    {
        SearchScratch? scratch = s_current;
        if (scratch is null || scratch.Query.Dimension != dimension)
        {
            scratch = new SearchScratch(dimension);
            s_current = scratch;
        }

        return scratch;
    }

    public Span<float> Scores(int count) => Grow(ref _scores, count);

    public Span<float> CoarseScores(int count) => Grow(ref _coarseScores, count);

    private static Span<float> Grow(ref float[] buffer, int count)
    {
        if (buffer.Length < count) buffer = new float[Math.Max(count, buffer.Length * 2)];
        return buffer.AsSpan(0, count);
    }
}
