using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Index.Compressed;

/// <summary>Search-time depths: IVF lists probed (wide: text-like queries' neighbours are not in the nearest lists) and candidate rows re-ranked exactly.</summary>
public sealed record CompressedSearchSettings(int NProbe = 256, int RerankDepth = 1024)
{
    public static CompressedSearchSettings Default { get; } = new();

    internal void Validate()
    {
        if (NProbe < 1) throw new ArgumentOutOfRangeException(nameof(NProbe), NProbe, "Probe at least one list.");
        if (RerankDepth < 1) throw new ArgumentOutOfRangeException(nameof(RerankDepth), RerankDepth, "Re-rank at least one candidate.");
    }
}

/// <summary>One ranked image: its dense number, its best exact (int8) score and the ordinal of the vector that gave it.</summary>
public readonly record struct ImageHit(int Image, float Score, int VectorOrdinal);

/// <summary>Hits best first, and what the search cost: product codes scored and re-rank bytes read from the mapped file.</summary>
public sealed record CompressedSearchResult(ImageHit[] Hits, long CodesScanned, int RowsReranked, long RerankBytesRead);

/// <summary>
/// A compressed multi-vector shard index. Hot path, in RAM: IVF lists of product-quantised residuals
/// (4-bit fast-scan or 8-bit codes) with a 4-byte row number each, and one int per image (its first row).
/// Re-rank codes (int8 + scale per vector) live in a memory-mapped file. A search probes
/// <see cref="CompressedSearchSettings.NProbe"/> lists, keeps the <see cref="CompressedSearchSettings.RerankDepth"/>
/// best rows by approximate score, re-scores them exactly on int8 codes, and returns the top k images by
/// max over their vectors. Images are dense integers (the shard maps them to ids, URIs, metadata and
/// patch maps, fetched for the final k only); an image's vectors are consecutive rows.
/// </summary>
/// <remarks>
/// Adoption by a shard engine: train one <see cref="IndexModel"/> per index from a sample and persist
/// it with the index; every shard encodes with it (<see cref="IndexModel.Encode"/>), persists the
/// <see cref="EncodedVectors"/> in its segments, writes a segment's index with
/// <see cref="CompressedIndexWriter"/> and, on activation, reopens it from the persisted codes with
/// <see cref="Open"/> (no re-encoding, no retraining). Segments are immutable; deletes are tombstones
/// (<see cref="Delete"/>) until compaction writes a new segment. Search is thread-safe; Delete may run
/// concurrently with searches.
/// </remarks>
public sealed partial class CompressedMultiVectorIndex : IDisposable
{
    private readonly HotList[] _lists;
    private readonly int[] _firstRows;
    private readonly bool[] _deleted;
    private readonly RerankCodeReader _rerank;
    private int _deletedCount;

    internal CompressedMultiVectorIndex(IndexModel model, HotList[] lists, int[] firstRows, RerankCodeReader rerank)
    {
        Model = model;
        _lists = lists;
        _firstRows = firstRows;
        _deleted = new bool[firstRows.Length - 1];
        _rerank = rerank;
        if (rerank.RowCount != firstRows[^1])
        {
            rerank.Dispose();
            throw new InvalidDataException($"The re-rank file holds {rerank.RowCount} rows; the codes given describe {firstRows[^1]}.");
        }
    }

    public IndexModel Model { get; }

    public int Dimension => Model.Dimension;

    /// <summary>Images stored, deleted ones included (image numbers run 0 … ImageCount − 1).</summary>
    public int ImageCount => _firstRows.Length - 1;

    public int LiveImageCount => ImageCount - Volatile.Read(ref _deletedCount);

    public long VectorCount => _firstRows[^1];

    /// <summary>Everything the index holds in RAM: lists (codes, row numbers), image table, tombstones, model.</summary>
    public long ResidentBytes
    {
        get
        {
            long bytes = Model.MemoryBytes + _firstRows.LongLength * sizeof(int) + _deleted.LongLength;
            foreach (HotList list in _lists) bytes += list.MemoryBytes;
            return bytes;
        }
    }

    /// <summary>Bytes of the hot lists alone (codes and row numbers), without the shared model.</summary>
    public long ListBytes => _lists.Sum(l => l.MemoryBytes);

    /// <summary>Bytes of the memory-mapped re-rank file (disk, paged in on demand).</summary>
    public long RerankFileBytes => RerankCodeFile.HeaderBytes + VectorCount * _rerank.RecordBytes;

    /// <summary>
    /// Reopens an index from codes persisted earlier (the hot parts of <paramref name="images"/>, in image
    /// order) and its existing re-rank file: no encoding, no training; searches equal those of the index
    /// that wrote them.
    /// </summary>
    public static CompressedMultiVectorIndex Open(IndexModel model, string rerankPath, IEnumerable<EncodedVectors> images)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        var lists = new HotListBuilder(model);
        var firstRows = new List<int> { 0 };
        foreach (EncodedVectors image in images)
        {
            lists.Check(image);
            int first = firstRows[^1];
            for (int v = 0; v < image.Count; v++) lists.Add(image.Lists[v], image.ProductCode(v), first + v);
            firstRows.Add(first + image.Count);
        }

        return new CompressedMultiVectorIndex(model, lists.Build(), firstRows.ToArray(), new RerankCodeReader(rerankPath, model.Dimension, model.Fingerprint));
    }

    /// <summary>Brings the whole re-rank file into the page cache (see <see cref="RerankCodeReader.WarmUp"/>).</summary>
    public long WarmUpRerankFile() => _rerank.WarmUp();

    public bool IsDeleted(int image) => _deleted[image];

    /// <summary>Tombstones an image; returns false when it was deleted already.</summary>
    public bool Delete(int image)
    {
        if ((uint)image >= (uint)ImageCount) throw new ArgumentOutOfRangeException(nameof(image), image, $"The index holds images 0 … {ImageCount - 1}.");
        if (_deleted[image]) return false;
        _deleted[image] = true;
        Interlocked.Increment(ref _deletedCount);
        return true;
    }

    /// <summary>Vector ordinal <paramref name="ordinal"/> of an image's exact int8 re-rank score against a query (for tests and explanations).</summary>
    public float ExactScore(ReadOnlySpan<float> query, int image, int ordinal)
    {
        var prepared = new Codecs.PreparedQuery(Dimension);
        Model.RerankCodec.PrepareQuery(query, prepared);
        return _rerank.Score(_firstRows[image] + ordinal, prepared);
    }

    public (sbyte[] Code, float Scale) RerankCode(int image, int ordinal) => _rerank.Read(_firstRows[image] + ordinal);

    /// <summary>The image that owns a row: binary search over the first rows.</summary>
    private int ImageOf(int row)
    {
        int found = Array.BinarySearch(_firstRows, row);
        return found >= 0 ? found : ~found - 1;
    }

    private float CentroidScore(ReadOnlySpan<float> query, int list) => TensorPrimitives.Dot(query, Model.Lists.Centroid(list));

    public void Dispose() => _rerank.Dispose();
}
