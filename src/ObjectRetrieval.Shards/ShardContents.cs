using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Shards;

/// <summary>
/// The in-memory side of one shard: one vector index per scoring mode the layout serves, a slim record per live
/// image (for explanations and lookups), and what changed since the last seal — the full representations of the
/// images upserted since and the ids deleted since — which the next seal writes out as a new segment. Images
/// already in segments keep no vectors outside the indexes.
/// Cluster mode stores the centroids followed by the global vector, so an ordinal below the centroid count names a cluster.
/// Searches and lookups run concurrently with each other and with the writer: a reader-writer lock guards the
/// indexes (the core's indexes allow concurrent searches, not a search during a write) and the records. Its write
/// side is held only while a batch is applied in memory, never across the writer's I/O. Changes come from one
/// writer at a time (the shard's writer serialises them), so the writer reads <see cref="Unsealed"/> and
/// <see cref="DeletedSinceSeal"/> without the lock.
/// </summary>
public sealed class ShardContents
{
    // A dictionary entry (hash, next, key, value) plus its bucket.
    private const int EntryBytes = 4 + 4 + 8 + 8 + 4;

    // A representation's object, its five arrays' headers, and its metadata dictionary before entries.
    private const int RepresentationOverheadBytes = 96 + 5 * 24 + 80;

    private readonly Dictionary<string, ShardImage> _images = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ImageRepresentation> _unsealed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deletedSinceSeal = new(StringComparer.Ordinal);
    private readonly ShardLayout _definition;
    private readonly ModeIndex _global;
    private readonly ModeIndex _cluster;
    private readonly ModeIndex? _dense;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private long _imageBytes;

    public ShardContents(ShardLayout definition)
    {
        _definition = definition;
        _global = new ModeIndex(definition, ScoringMode.Global, useIvf: false);
        _cluster = new ModeIndex(definition, ScoringMode.Cluster, useIvf: definition.Ivf is not null);
        _dense = definition.KeepDense ? new ModeIndex(definition, ScoringMode.Dense, useIvf: definition.Ivf is not null) : null;
    }

    public int ImageCount => Read(() => _images.Count);

    public long VectorCount => Read(() => _cluster.Reader.VectorCount + _global.Reader.VectorCount + (_dense?.Reader.VectorCount ?? 0));

    /// <summary>The vector indexes plus the per-image records and the representations waiting for the next seal.</summary>
    public long MemoryBytes => Read(() => _cluster.Reader.MemoryBytes + _global.Reader.MemoryBytes + (_dense?.Reader.MemoryBytes ?? 0) + _imageBytes);

    /// <summary>The vector indexes' memory by scoring mode.</summary>
    public (long Global, long Cluster, long Dense) MemoryByMode => Read(() => (_global.Reader.MemoryBytes, _cluster.Reader.MemoryBytes, _dense?.Reader.MemoryBytes ?? 0));

    /// <summary>Images upserted since the newest segment was sealed (bounded by the seal thresholds), in full.</summary>
    public IReadOnlyCollection<ImageRepresentation> Unsealed => _unsealed.Values;

    /// <summary>Images deleted since the last seal that an older segment may still hold: the next seal writes their tombstones.</summary>
    public IReadOnlyCollection<string> DeletedSinceSeal => _deletedSinceSeal;

    /// <summary>Whether anything changed since the last seal.</summary>
    public bool HasChanges => _unsealed.Count > 0 || _deletedSinceSeal.Count > 0;

    public ShardImage? Find(string imageId) => Read(() => _images.GetValueOrDefault(imageId));

    public bool Contains(string imageId) => Read(() => _images.ContainsKey(imageId));

    public IReadOnlyDictionary<string, string>? MetadataOf(string imageId) => Read(() => _images.TryGetValue(imageId, out ShardImage? image) ? image.Metadata : null);

    /// <summary>New or replaced images, applied as one: kept in full until the next seal writes them into a segment.</summary>
    public void Upsert(IReadOnlyList<ImageRepresentation> images) => Write(() =>
    {
        foreach (ImageRepresentation image in images)
        {
            _deletedSinceSeal.Remove(image.ImageId);
            Add(image, unsealed: true);
        }
    });

    /// <summary>An image read back from a segment: only its codes and slim record stay in memory.</summary>
    public void Restore(ImageRepresentation image) => Write(() => Add(image, unsealed: false));

    /// <summary>Deletes since the last seal, applied as one: the next seal writes their tombstones.</summary>
    public void Delete(IReadOnlyList<string> imageIds) => Write(() =>
    {
        foreach (string imageId in imageIds)
        {
            if (Remove(imageId)) _deletedSinceSeal.Add(imageId);
        }
    });

    /// <summary>A tombstone read back from a segment: already sealed.</summary>
    public void RestoreDelete(string imageId) => Write(() => Remove(imageId));

    /// <summary>
    /// A segment now holds the given changes: their full representations can go. Only those: an image upserted
    /// again while the segment was written stays unsealed.
    /// </summary>
    public void MarkSealed(IReadOnlyCollection<ImageRepresentation> sealedImages, IReadOnlyCollection<string> sealedDeletes) => Write(() =>
    {
        foreach (ImageRepresentation image in sealedImages)
        {
            if (_unsealed.TryGetValue(image.ImageId, out ImageRepresentation? current) && ReferenceEquals(current, image))
            {
                _unsealed.Remove(image.ImageId);
                _imageBytes -= UnsealedBytes(image);
            }
        }

        foreach (string id in sealedDeletes)
        {
            if (!_images.ContainsKey(id)) _deletedSinceSeal.Remove(id);
        }
    });

    private bool Remove(string imageId)
    {
        if (!Forget(imageId)) return false;
        _global.Writer.Delete(imageId);
        _cluster.Writer.Delete(imageId);
        _dense?.Writer.Delete(imageId);
        return true;
    }

    public IReadOnlyList<ShardMatch> Search(ShardSearch query) => Read(() =>
    {
        ModeIndex index = query.Mode switch
        {
            ScoringMode.Global => _global,
            ScoringMode.Cluster => _cluster,
            ScoringMode.Dense => _dense ?? throw new ArgumentException($"Index '{_definition.IndexName}' does not keep dense patches; dense mode is unavailable."),
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.Mode, "Unknown scoring mode."),
        };
        var options = new SearchOptions(query.NProbe ?? _definition.Ivf?.DefaultNProbe ?? SearchOptions.Default.NProbe);
        IReadOnlyList<SearchHit> hits = index.Reader.Search(query.Vector, query.K, options);
        var result = new ShardMatch[hits.Count];
        for (int i = 0; i < hits.Count; i++)
        {
            SearchHit hit = hits[i];
            ShardImage image = _images[hit.ImageId];
            bool isCluster = ModeVectors.IsCluster(image.CentroidCount, query.Mode, hit.VectorOrdinal);
            result[i] = new ShardMatch(hit.ImageId, image, hit.Score, isCluster ? hit.VectorOrdinal : null);
        }

        return (IReadOnlyList<ShardMatch>)result;
    });

    /// <summary>
    /// Drops deleted and replaced vectors and trains IVF lists once a shard is large enough; true when anything changed.
    /// In memory only, but it rebuilds an index, so searches wait for it (rarely: a quarter of the vectors must be dead).
    /// </summary>
    public bool Maintain() => Write(() =>
    {
        bool changed = false;
        foreach (ModeIndex? index in new[] { _global, _cluster, _dense })
        {
            if (index is not null) changed |= index.Maintain(_definition.Ivf);
        }

        return changed;
    });

    private T Read<T>(Func<T> read)
    {
        _lock.EnterReadLock();
        try
        {
            return read();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void Write(Action write) => Write(() =>
    {
        write();
        return true;
    });

    private T Write<T>(Func<T> write)
    {
        _lock.EnterWriteLock();
        try
        {
            return write();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
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

        public ModeIndex(ShardLayout definition, ScoringMode mode, bool useIvf)
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

        public bool Maintain(ShardIvf? ivf)
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
