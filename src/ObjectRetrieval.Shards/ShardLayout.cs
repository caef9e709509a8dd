using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Shards;

/// <summary>Inverted-file settings of a shard's indexes; the lists are trained once the shard holds <see cref="TrainAtVectors"/> vectors.</summary>
public sealed record ShardIvf(int ListCount, int DefaultNProbe, int TrainAtVectors);

/// <summary>What every image of one index looks like and how its shards index it: the engine's view of an index definition.</summary>
public sealed record ShardLayout(string IndexName, int Dimension, VectorCodecKind Codec, ShardIvf? Ivf, bool KeepDense);

/// <summary>A search as the engine runs it: a unit query vector, how many images, which vectors score, IVF lists to probe.</summary>
public sealed record ShardSearch(float[] Vector, int K, Core.Representation.ScoringMode Mode, int? NProbe);

/// <summary>
/// One ranked image with its slim record. <see cref="MatchedCluster"/> is the cluster whose vector gave the score,
/// or null when another vector did (the global one, or a patch in dense mode).
/// </summary>
public sealed record ShardMatch(string ImageId, ShardImage Image, float Score, int? MatchedCluster);
