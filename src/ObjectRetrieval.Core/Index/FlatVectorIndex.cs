using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Exact search: every stored code is scored (one sequential SIMD pass over contiguous memory),
/// then each image keeps its best vector and a bounded heap keeps the k best images.
/// Exact with respect to the codes: with <see cref="VectorCodecKind.Float32"/> it is brute force.
/// One writer at a time; searches may run concurrently with each other but not with writes.
/// </summary>
public sealed class FlatVectorIndex : IVectorIndexReader, IVectorIndexWriter
{
    private readonly ImageTable _images = new();
    private CodeStore _codes;

    public FlatVectorIndex(int dimension, VectorCodecKind codec = VectorCodecKind.Int8)
        : this(VectorCodecs.Create(codec, dimension))
    {
    }

    public FlatVectorIndex(IVectorCodec codec)
    {
        Codec = codec;
        _codes = new CodeStore(codec);
    }

    public IVectorCodec Codec { get; }

    public int Dimension => Codec.Dimension;

    public int ImageCount => _images.LiveImageCount;

    public long VectorCount => _images.LiveVectorCount;

    /// <summary>Vectors of replaced or deleted images still held until <see cref="Compact"/>.</summary>
    public long DeadVectorCount => _images.DeadVectorCount;

    public long MemoryBytes => _codes.MemoryBytes + _images.MemoryBytes;

    /// <summary>Bytes per stored vector of codes and scales (what grows with the vectors; ids are per image).</summary>
    public int CodeBytesPerVector => Codec.CodeBytes + (Codec.UsesScale ? sizeof(float) : 0);

    public bool Contains(string imageId) => _images.Contains(imageId);

    public void Upsert(string imageId, ReadOnlySpan<float> vectors, int vectorCount)
    {
        IndexGuards.Upsert(imageId, vectors, vectorCount, Dimension);
        _images.Upsert(imageId, vectorCount);
        for (int v = 0; v < vectorCount; v++)
        {
            _codes.Add(vectors.Slice(v * Dimension, Dimension));
        }
    }

    public bool Delete(string imageId) => _images.Delete(imageId);

    /// <summary>Rewrites storage without the vectors of replaced and deleted images.</summary>
    public void Compact()
    {
        if (DeadVectorCount == 0) return;
        int[] newRowOf = _images.Compact();
        var compacted = new CodeStore(Codec, _images.RowCount);
        for (int row = 0; row < newRowOf.Length; row++)
        {
            if (newRowOf[row] >= 0) compacted.AddCode(_codes.Code(row), _codes.Scale(row));
        }

        compacted.TrimExcess();
        _codes = compacted;
    }

    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null)
    {
        IndexGuards.Query(query, Dimension, k);
        if (_images.LiveImageCount == 0) return [];

        SearchScratch scratch = SearchScratch.For(Dimension);
        Codec.PrepareQuery(query, scratch.Query);
        Span<float> scores = scratch.Scores(_codes.Count);
        _codes.ScoreAll(scratch.Query, scores);

        ImageTopK top = scratch.Top;
        top.Reset(Math.Min(k, _images.LiveImageCount), _images);
        ReadOnlySpan<int> firstRows = _images.FirstRows;
        ReadOnlySpan<int> counts = _images.VectorCounts;
        ReadOnlySpan<bool> deleted = _images.DeletedFlags;
        for (int slot = 0; slot < firstRows.Length; slot++)
        {
            if (deleted[slot]) continue;
            ReadOnlySpan<float> imageScores = scores.Slice(firstRows[slot], counts[slot]);
            int best = 0;
            for (int v = 1; v < imageScores.Length; v++)
            {
                if (imageScores[v] > imageScores[best]) best = v;
            }

            top.OfferNew(slot, imageScores[best], best);
        }

        return top.ToHits();
    }
}
