using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Grains;

/// <summary>
/// The in-memory side of one shard, free of Orleans: every live image's representation (for segments
/// and explanations) and one vector index per scoring mode the index definition serves. Cluster mode
/// stores the centroids followed by the global vector, so an ordinal below the centroid count names a cluster.
/// Not thread-safe: the grain's single-threaded turns serialise access.
/// </summary>
public sealed class ShardContents
{
    private readonly Dictionary<string, ImageRepresentation> _images = new(StringComparer.Ordinal);
    private readonly IndexDefinition _definition;
    private readonly ModeIndex _global;
    private readonly ModeIndex _cluster;
    private readonly ModeIndex? _dense;

    public ShardContents(IndexDefinition definition)
    {
        _definition = definition;
        _global = new ModeIndex(definition, ScoringMode.Global, useIvf: false);
        _cluster = new ModeIndex(definition, ScoringMode.Cluster, useIvf: definition.Ivf is not null);
        _dense = definition.KeepDense ? new ModeIndex(definition, ScoringMode.Dense, useIvf: definition.Ivf is not null) : null;
    }

    public int ImageCount => _images.Count;

    public long VectorCount => _cluster.Reader.VectorCount + _global.Reader.VectorCount + (_dense?.Reader.VectorCount ?? 0);

    public long MemoryBytes => _cluster.Reader.MemoryBytes + _global.Reader.MemoryBytes + (_dense?.Reader.MemoryBytes ?? 0);

    public ModeMemory MemoryByMode => new(_global.Reader.MemoryBytes, _cluster.Reader.MemoryBytes, _dense?.Reader.MemoryBytes ?? 0);

    public IEnumerable<ImageRepresentation> Images => _images.Values;

    public ImageRepresentation? Find(string imageId) => _images.GetValueOrDefault(imageId);

    public bool Contains(string imageId) => _images.ContainsKey(imageId);

    public IReadOnlyDictionary<string, string>? MetadataOf(string imageId) => _images.TryGetValue(imageId, out ImageRepresentation? image) ? image.Metadata : null;

    /// <summary>Why the representation cannot go into this index, or null.</summary>
    public string? Problem(ImageRepresentation image)
    {
        if (image.Dimension != _definition.Dimension) return $"Image '{image.ImageId}' has dimension {image.Dimension}; index '{_definition.Name}' holds {_definition.Dimension}.";
        if (image.CentroidCount < 1) return $"Image '{image.ImageId}' has no aggregated vectors.";
        if (_definition.KeepDense && image.DensePatches is null) return $"Index '{_definition.Name}' keeps dense patches but image '{image.ImageId}' has none.";
        return null;
    }

    public void Upsert(ImageRepresentation image)
    {
        // Dense patches are only kept where the index asks for them: they are most of the bytes.
        if (!_definition.KeepDense && image.DensePatches is not null) image = image with { DensePatches = null };
        _images[image.ImageId] = image;
        _global.Upsert(image);
        _cluster.Upsert(image);
        _dense?.Upsert(image);
    }

    public bool Delete(string imageId)
    {
        if (!_images.Remove(imageId)) return false;
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
            ImageRepresentation image = _images[hit.ImageId];
            bool isCluster = ModeVectors.IsCluster(image, query.Mode, hit.VectorOrdinal);
            result[i] = new ShardHit(
                hit.ImageId,
                image.SourceUri,
                hit.Score,
                isCluster ? hit.VectorOrdinal : null,
                query.Explain && isCluster ? RegionOf(image, hit.VectorOrdinal) : null);
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

    /// <summary>The matched cluster's patches on the whole-image grid (tile patches, if any, follow the grid and are left out).</summary>
    public static RegionMask RegionOf(ImageRepresentation image, int cluster)
    {
        int cells = Math.Min(image.GridWidth * image.GridHeight, image.Assignment.Length);
        var mask = new byte[cells];
        for (int i = 0; i < cells; i++) mask[i] = image.Assignment[i] == cluster ? (byte)1 : (byte)0;
        return new RegionMask(image.GridWidth, image.GridHeight, mask);
    }

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
