using ObjectRetrieval.Core.Representation;
using Orleans.Concurrency;

namespace ObjectRetrieval.Abstractions;

/// <summary>One image to store: its id and its representation in the core's checksummed record format.</summary>
[GenerateSerializer, Immutable, Alias("objret.EncodedImage")]
public sealed record EncodedImage(
    [property: Id(0)] string ImageId,
    [property: Id(1)] byte[] Representation)
{
    public static EncodedImage From(ImageRepresentation representation) =>
        new(representation.ImageId, RepresentationSerializer.Serialize(representation));
}

/// <summary>A search as a shard sees it: the query is already a unit vector.</summary>
[GenerateSerializer, Immutable, Alias("objret.ShardQuery")]
public sealed record ShardQuery(
    [property: Id(0)] float[] Vector,
    [property: Id(1)] int K,
    [property: Id(2)] ScoringMode Mode,
    [property: Id(3)] int? NProbe,
    [property: Id(4)] bool Explain);

/// <summary>The patches of the matched cluster on the image's patch grid: row-major, one byte (0 or 1) per patch.</summary>
[GenerateSerializer, Immutable, Alias("objret.RegionMask")]
public sealed record RegionMask(
    [property: Id(0)] int GridWidth,
    [property: Id(1)] int GridHeight,
    [property: Id(2)] byte[] Mask);

/// <summary>
/// One ranked image. <see cref="MatchedCluster"/> is the cluster whose vector gave the score, or null when
/// another vector did (the global one, or a patch in dense mode).
/// </summary>
[GenerateSerializer, Immutable, Alias("objret.ShardHit")]
public sealed record ShardHit(
    [property: Id(0)] string ImageId,
    [property: Id(1)] string? SourceUri,
    [property: Id(2)] float Score,
    [property: Id(3)] int? MatchedCluster,
    [property: Id(4)] RegionMask? Region);

/// <summary>
/// A shard's size and state. <see cref="Problem"/> is set when the shard refused to start (its stored data is
/// damaged: the message names the file and offset) and then serves nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("objret.ShardStats")]
public sealed record ShardStats(
    [property: Id(0)] string ShardKey,
    [property: Id(1)] int Images,
    [property: Id(2)] long Vectors,
    [property: Id(3)] long MemoryBytes,
    [property: Id(4)] int Segments,
    [property: Id(5)] int LogRecords,
    [property: Id(6)] string Silo,
    [property: Id(7)] ModeMemory? MemoryByMode = null,
    [property: Id(8)] string? Problem = null,
    [property: Id(9)] long Epoch = 0,
    [property: Id(10)] long QuarantinedRecords = 0,
    [property: Id(11)] long LogBytes = 0);

/// <summary>Bytes a shard's index holds per scoring mode (dense is 0 when the index keeps no patches).</summary>
[GenerateSerializer, Immutable, Alias("objret.ModeMemory")]
public sealed record ModeMemory(
    [property: Id(0)] long Global,
    [property: Id(1)] long Cluster,
    [property: Id(2)] long Dense)
{
    public long For(ScoringMode mode) => mode switch
    {
        ScoringMode.Global => Global,
        ScoringMode.Cluster => Cluster,
        _ => Dense,
    };
}

/// <summary>What a shard knows of one stored image besides its vectors.</summary>
[GenerateSerializer, Immutable, Alias("objret.StoredImage")]
public sealed record StoredImage(
    [property: Id(0)] string ImageId,
    [property: Id(1)] string? SourceUri,
    [property: Id(2)] int GridWidth,
    [property: Id(3)] int GridHeight);

/// <summary>
/// One shard of an index (key: "index/shard-NNN", see <see cref="ShardRouting"/>). Writes return only once
/// they are in the shard's write-ahead log; the in-memory index serves searches. Reads never wait for writes:
/// searches, stats and lookups interleave with each other and with upserts, deletes and seals under way.
/// </summary>
[Alias("objret.IIndexShardGrain")]
public interface IIndexShardGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces images (idempotent by image id). Returns how many were stored.</summary>
    [Alias("Upsert")]
    Task<int> UpsertAsync(IReadOnlyList<EncodedImage> images);

    /// <summary>Deletes images; returns how many were present.</summary>
    [Alias("Delete")]
    Task<int> DeleteAsync(IReadOnlyList<string> imageIds);

    [AlwaysInterleave]
    [Alias("Search")]
    Task<IReadOnlyList<ShardHit>> SearchAsync(ShardQuery query);

    [AlwaysInterleave]
    [Alias("Stats")]
    Task<ShardStats> StatsAsync();

    /// <summary>The stored image's source and patch grid, or null when this shard does not hold it.</summary>
    [AlwaysInterleave]
    [Alias("GetImage")]
    Task<StoredImage?> GetImageAsync(string imageId);

    /// <summary>Each image's stored metadata (null where the shard does not hold the image): lets ingest skip unchanged images.</summary>
    [AlwaysInterleave]
    [Alias("Metadata")]
    Task<IReadOnlyList<IReadOnlyDictionary<string, string>?>> MetadataAsync(IReadOnlyList<string> imageIds);

    /// <summary>Seals the log into a segment now instead of waiting for the background timer.</summary>
    [Alias("Seal")]
    Task SealAsync();

    /// <summary>
    /// Closes the shard's files now and deactivates it, because its index is being deleted: when this returns, the
    /// shard writes nothing more. Later calls fail until the shard activates again (which needs its index).
    /// </summary>
    [Alias("Release")]
    Task ReleaseAsync();
}
