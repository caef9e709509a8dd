using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Shards;

/// <summary>The read path of a shard: searches and lookups over what the shard holds in memory. Never touches storage.</summary>
public sealed class ShardReader
{
    private readonly ShardContents _contents;
    private readonly ShardLayout _layout;

    internal ShardReader(ShardContents contents, ShardLayout layout)
    {
        _contents = contents;
        _layout = layout;
    }

    public int ImageCount => _contents.ImageCount;

    public long VectorCount => _contents.VectorCount;

    public long MemoryBytes => _contents.MemoryBytes;

    public (long Global, long Cluster, long Dense) MemoryByMode => _contents.MemoryByMode;

    public IReadOnlyList<ShardMatch> Search(ShardSearch query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Vector.Length != _layout.Dimension) throw new ArgumentException($"Query has dimension {query.Vector.Length}; index '{_layout.IndexName}' holds {_layout.Dimension}.", nameof(query));
        if (query.K < 1) throw new ArgumentOutOfRangeException(nameof(query), query.K, "k must be at least 1.");
        return _contents.Search(query);
    }

    public ShardImage? Find(string imageId) => _contents.Find(imageId);

    public bool Contains(string imageId) => _contents.Contains(imageId);

    public IReadOnlyDictionary<string, string>? MetadataOf(string imageId) => _contents.MetadataOf(imageId);

    /// <summary>Whether the image, as held now, would score in the given mode (dense needs patches).</summary>
    public bool Serves(ScoringMode mode) => mode != ScoringMode.Dense || _layout.KeepDense;
}
