namespace ObjectRetrieval.Core.Index;

/// <summary>How stored vectors are encoded in memory.</summary>
public enum VectorCodecKind
{
    /// <summary>One signed byte per dimension plus one float scale per vector (default: 4× smaller than float32).</summary>
    Int8,

    /// <summary>IEEE half precision.</summary>
    Float16,

    /// <summary>Full precision, the reference.</summary>
    Float32,
}

/// <summary>
/// One ranked image: its best score over its stored vectors and which of its vectors gave it
/// (the ordinal in the order the vectors were upserted: for cluster mode, the matched cluster).
/// </summary>
public readonly record struct SearchHit(string ImageId, float Score, int VectorOrdinal);

/// <summary>Search-time knobs. <see cref="NProbe"/> applies to IVF indexes only.</summary>
public sealed record SearchOptions(int NProbe = 16)
{
    public static SearchOptions Default { get; } = new();
}

/// <summary>The read path of a shard index: top-k images by max inner product over each image's vectors.</summary>
public interface IVectorIndexReader
{
    int Dimension { get; }

    /// <summary>Live (not deleted) images.</summary>
    int ImageCount { get; }

    /// <summary>Live stored vectors.</summary>
    long VectorCount { get; }

    /// <summary>Bytes held by codes, scales, ids and side structures.</summary>
    long MemoryBytes { get; }

    bool Contains(string imageId);

    /// <summary>Top <paramref name="k"/> live images, best first; fewer when the index holds fewer.</summary>
    IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null);
}

/// <summary>The write path of a shard index.</summary>
public interface IVectorIndexWriter
{
    /// <summary>Adds or replaces all vectors of one image (row-major, vectorCount × Dimension, unit length expected).</summary>
    void Upsert(string imageId, ReadOnlySpan<float> vectors, int vectorCount);

    /// <summary>Marks the image deleted (tombstone); returns false when it was not present.</summary>
    bool Delete(string imageId);
}
