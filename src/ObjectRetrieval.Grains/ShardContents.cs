using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Grains;

/// <summary>
/// The in-memory side of one shard, free of Orleans: one vector index per scoring mode the index definition
/// serves, a slim record per live image (for explanations and lookups), and the full representations of the
/// images upserted since the newest segment was sealed, which the next seal writes out. Images already in
/// that segment keep no vectors outside the indexes: sealing reads them back from it.
/// Cluster mode stores the centroids followed by the global vector, so an ordinal below the centroid count names a cluster.
/// Not thread-safe: the grain's single-threaded turns serialise access.
/// </summary>
public sealed class ShardContents
{
    // A dictionary entry (hash, next, key, value) plus its bucket.
    private const int EntryBytes = 4 + 4 + 8 + 8 + 4;

    // A representation's object, its five arrays' headers, and its metadata dictionary before entries.
    private const int RepresentationOverheadBytes = 96 + 5 * 24 + 80;

    private readonly Dictionary<string, ShardImage> _images = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ImageRepresentation> _unsealed = new(StringComparer.Ordinal);
    private readonly IndexDefinition _definition;
    private readonly ModeIndex _global;
    private readonly ModeIndex _cluster;
    private readonly ModeIndex? _dense;
    private long _imageBytes;

    public ShardContents(IndexDefinition definition)
    {
        _definition = definition;
        _global = new ModeIndex(definition, ScoringMode.Global, useIvf: false);
        _cluster = new ModeIndex(definition, ScoringMode.Cluster, useIvf: definition.Ivf is not null);
        _dense = definition.KeepDense ? new ModeIndex(definition, ScoringMode.Dense, useIvf: definition.Ivf is not null) : null;
    }

    public int ImageCount => _images.Count;

    public long VectorCount => _cluster.Reader.VectorCount + _global.Reader.VectorCount + (_dense?.Reader.VectorCount ?? 0);

    /// <summary>The vector indexes plus the per-image records and the representations waiting for the next seal.</summary>
    public long MemoryBytes => _cluster.Reader.MemoryBytes + _global.Reader.MemoryBytes + (_dense?.Reader.MemoryBytes ?? 0) + _imageBytes;

    /// <summary>The vector indexes' memory by scoring mode.</summary>
    public ModeMemory MemoryByMode => new(_global.Reader.MemoryBytes, _cluster.Reader.MemoryBytes, _dense?.Reader.MemoryBytes ?? 0);

    /// <summary>Images upserted since the newest segment was sealed (bounded by the seal thresholds), in full.</summary>
    public IReadOnlyCollection<ImageRepresentation> Unsealed => _unsealed.Values;

    public ShardImage? Find(string imageId) => _images.GetValueOrDefault(imageId);

    public bool Contains(string imageId) => _images.ContainsKey(imageId);

    public IReadOnlyDictionary<string, string>? MetadataOf(string imageId) => _images.TryGetValue(imageId, out ShardImage? image) ? image.Metadata : null;

    /// <summary>Whether the newest segment's record of the image is still the live one: neither deleted nor replaced since.</summary>
    public bool IsCurrentInSegment(string imageId) => _images.ContainsKey(imageId) && !_unsealed.ContainsKey(imageId);

    /// <summary>Why the representation cannot go into this index, or null.</summary>
    public string? Problem(ImageRepresentation image)
    {
        if (image.Dimension != _definition.Dimension) return $"Image '{image.ImageId}' has dimension {image.Dimension}; index '{_definition.Name}' holds {_definition.Dimension}.";
        if (image.CentroidCount < 1) return $"Image '{image.ImageId}' has no aggregated vectors.";
        if (_definition.KeepDense && image.DensePatches is null) return $"Index '{_definition.Name}' keeps dense patches but image '{image.ImageId}' has none.";
        return null;
    }

    /// <summary>A new or replaced image: kept in full until the next seal writes it into a segment.</summary>
    public void Upsert(ImageRepresentation image) => Add(image, unsealed: true);

    /// <summary>An image read back from the newest segment: only its codes and slim record stay in memory.</summary>
    public void Restore(ImageRepresentation image) => Add(image, unsealed: false);

    /// <summary>The newest segment now holds every unsealed image: their full representations can go.</summary>
    public void MarkSealed()
    {
        foreach (ImageRepresentation image in _unsealed.Values) _imageBytes -= UnsealedBytes(image);
        _unsealed.Clear();
    }

    public bool Delete(string imageId)
    {
        if (!Forget(imageId)) return false;
        _global.Writer.Delete(imageId);
        _cluster.Writer.Delete(imageId);
        _dense?.Writer.Delete(imageId);
        return true;
    }

    public IReadOnlyList<ShardHit> Search(ShardQuery query)
    {
        ModeIndex index = query.Mode switch
        {
            ScoringMode.Global => _global,
            ScoringMode.Cluster => _cluster,
            ScoringMode.Dense => _dense ?? throw new ArgumentException($"Index '{_definition.Name}' does not keep dense patches; dense mode is unavailable."),
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.Mode, "Unknown scoring mode."),
        };
        var options = new SearchOptions(query.NProbe ?? _definition.Ivf?.DefaultNProbe ?? SearchOptions.Default.NProbe);
        IReadOnlyList<SearchHit> hits = index.Reader.Search(query.Vector, query.K, options);
        var result = new ShardHit[hits.Count];
        for (int i = 0; i < hits.Count; i++)
        {
            SearchHit hit = hits[i];
            ShardImage image = _images[hit.ImageId];
            bool isCluster = ModeVectors.IsCluster(image.CentroidCount, query.Mode, hit.VectorOrdinal);
            result[i] = new ShardHit(
                hit.ImageId,
                image.SourceUri,
                hit.Score,
                isCluster ? hit.VectorOrdinal : null,
                query.Explain && isCluster ? image.RegionOf(hit.VectorOrdinal) : null);
        }

        return result;
    }

    /// <summary>Drops deleted and replaced vectors and trains IVF lists once a shard is large enough; true when anything changed.</summary>
    public bool Maintain()
    {
        bool changed = false;
        foreach (ModeIndex? index in new[] { _global, _cluster, _dense })
        {
            if (index is not null) changed |= index.Maintain(_definition.Ivf);
        }

        return changed;
    }

    private void Add(ImageRepresentation image, bool unsealed)
    {
        // Dense patches are only kept where the index asks for them: they are most of the bytes.
        if (!_definition.KeepDense && image.DensePatches is not null) image = image with { DensePatches = null };
        Forget(image.ImageId);
        var record = ShardImage.From(image);
        _images.Add(image.ImageId, record);
        _imageBytes += EntryBytes + record.MemoryBytes;
        if (unsealed)
        {
            _unsealed.Add(image.ImageId, image);
            _imageBytes += UnsealedBytes(image);
        }

        _global.Upsert(image);
        _cluster.Upsert(image);
        _dense?.Upsert(image);
    }

    /// <summary>Drops the image's record and any unsealed representation (not its codes); false when it was not here.</summary>
    private bool Forget(string imageId)
    {
        if (!_images.Remove(imageId, out ShardImage? record)) return false;
        _imageBytes -= EntryBytes + record.MemoryBytes;
        if (_unsealed.Remove(imageId, out ImageRepresentation? image)) _imageBytes -= UnsealedBytes(image);
        return true;
    }

    /// <summary>What an unsealed representation adds to its slim record, which shares its assignment, id, URI and metadata strings.</summary>
    private static long UnsealedBytes(ImageRepresentation image) =>
        EntryBytes + RepresentationOverheadBytes + (long)EntryBytes * image.Metadata.Count
        + sizeof(float) * ((long)image.Global.Length + image.Centroids.Length + (image.DensePatches?.LongLength ?? 0))
        + sizeof(int) * (long)image.ClusterSizes.Length;

    private sealed class ModeIndex
    {
        private readonly ScoringMode _mode;
        private readonly FlatVectorIndex? _flat;
        private readonly IvfVectorIndex? _ivf;

        public ModeIndex(IndexDefinition definition, ScoringMode mode, bool useIvf)
        {
            _mode = mode;
            if (useIvf && definition.Ivf is { } ivf)
            {
                _ivf = new IvfVectorIndex(definition.Dimension, definition.Codec, new IvfOptions { ListCount = ivf.ListCount });
            }
            else
            {
                _flat = new FlatVectorIndex(definition.Dimension, definition.Codec);
            }
        }

        public IVectorIndexReader Reader => (IVectorIndexReader?)_flat ?? _ivf!;

        public IVectorIndexWriter Writer => (IVectorIndexWriter?)_flat ?? _ivf!;

        public void Upsert(ImageRepresentation image)
        {
            (float[] vectors, int count) = ModeVectors.For(image, _mode, includeGlobal: true);
            Writer.Upsert(image.ImageId, vectors, count);
        }

        public bool Maintain(IvfSettings? ivf)
        {
            bool changed = false;
            long dead = _flat?.DeadVectorCount ?? _ivf!.DeadVectorCount;
            if (dead > 0 && dead * 4 >= Reader.VectorCount)
            {
                _flat?.Compact();
                _ivf?.Compact();
                changed = true;
            }

            if (_ivf is { IsTrained: false } && ivf is not null && _ivf.VectorCount >= ivf.TrainAtVectors)
            {
                _ivf.Train();
                changed = true;
            }

            return changed;
        }
    }
}
