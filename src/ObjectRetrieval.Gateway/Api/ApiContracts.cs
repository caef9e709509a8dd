using ObjectRetrieval.Abstractions;

namespace ObjectRetrieval.Gateway.Api;

/// <summary>POST /api/v1/indexes. Model and dimension default to the gateway's text model.</summary>
public sealed record CreateIndexRequest(
    string? Name,
    int Shards = 8,
    int Clusters = 16,
    string Codec = "int8",
    IvfRequest? Ivf = null,
    bool KeepDense = false,
    string? Model = null,
    int? Dimension = null,
    string Aggregation = "hybrid");

public sealed record IvfRequest(int ListCount = 256, int NProbe = 16, int TrainAtVectors = 20_000);

/// <summary>POST /api/v1/indexes/{name}/search.</summary>
public sealed record SearchRequest(string? Query, int K = 50, string Mode = "cluster", bool Explain = false, int? NProbe = null);

/// <summary>One hit, addressed by its id alone: the image's bytes come from GET .../images/{imageId}/content, never from a path or storage URL.</summary>
public sealed record SearchHitResponse(string ImageId, float Score, int? MatchedCluster, RegionResponse? Region);

/// <summary>The matched region: one string per patch-grid row, '1' where the patch belongs to the matched cluster.</summary>
public sealed record RegionResponse(int GridWidth, int GridHeight, IReadOnlyList<string> Mask);

public sealed record SearchResponse(
    string Index,
    string Query,
    string Mode,
    IReadOnlyList<SearchHitResponse> Hits,
    double TookMs,
    bool Partial,
    IReadOnlyList<string> MissingShards);

public sealed record IndexDefinitionResponse(
    string Name, string Model, int Dimension, int Shards, int Clusters, string Aggregation, string Codec, IvfRequest? Ivf, bool KeepDense);

/// <summary>One shard's statistics; <see cref="MemoryByMode"/> splits the vector indexes' part of <see cref="MemoryBytes"/> by scoring mode.</summary>
public sealed record ShardStatsResponse(string Shard, int Images, long Vectors, long MemoryBytes, int Segments, int LogRecords, string Silo, ModeMemory? MemoryByMode);

public sealed record IndexResponse(
    IndexDefinitionResponse Definition,
    int Images,
    long Vectors,
    long MemoryBytes,
    IReadOnlyList<ShardStatsResponse> Shards,
    bool Partial,
    IReadOnlyList<string> MissingShards);

/// <summary>POST /api/v1/indexes/{name}/images with a JSON body: a file the gateway may read.</summary>
public sealed record ImageReferenceRequest(string? ImageId, string? Path);

public sealed record ImageAddedResponse(string ImageId, string Shard, int Clusters);
