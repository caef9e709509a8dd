using System.Text.RegularExpressions;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Abstractions;

/// <summary>Inverted-file settings of an index's shards; a shard trains its lists once it holds <see cref="TrainAtVectors"/> vectors.</summary>
[GenerateSerializer, Immutable, Alias("objret.IvfSettings")]
public sealed record IvfSettings(
    [property: Id(0)] int ListCount,
    [property: Id(1)] int DefaultNProbe,
    [property: Id(2)] int TrainAtVectors);

/// <summary>What an index is, fixed at creation: the state of its <see cref="IIndexGrain"/>.</summary>
[GenerateSerializer, Immutable, Alias("objret.IndexDefinition")]
public sealed partial record IndexDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] string Model,
    [property: Id(2)] int Dimension,
    [property: Id(3)] int ShardCount,
    [property: Id(4)] int Clusters,
    [property: Id(5)] VectorCodecKind Codec,
    [property: Id(6)] IvfSettings? Ivf,
    [property: Id(7)] bool KeepDense,
    [property: Id(8)] AggregationStrategy Aggregation = AggregationStrategy.Hybrid)
{
    /// <summary>How images of this index are aggregated: strategy and K, the rest at their defaults.</summary>
    public AggregationOptions AggregationSettings => new() { Strategy = Aggregation, Clusters = Clusters };

    /// <summary>Lower-case letters, digits and dashes: safe as a grain key, a directory and a blob prefix.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>What is wrong with the definition, or null when it is usable.</summary>
    public string? Problem()
    {
        if (!IsValidName(Name)) return $"Index name '{Name}' must be 1–63 lower-case letters, digits or dashes, starting with a letter or digit.";
        if (string.IsNullOrWhiteSpace(Model)) return "Name the model the index is built with.";
        if (Dimension is < 1 or > 8192) return $"Dimension {Dimension} must be between 1 and 8192.";
        if (ShardCount is < 1 or > ShardRouting.MaxShardCount) return $"Shard count {ShardCount} must be between 1 and {ShardRouting.MaxShardCount}.";
        if (Clusters is < 1 or > 255) return $"Clusters per image {Clusters} must be between 1 and 255.";
        if (!Enum.IsDefined(Codec)) return $"Unknown codec {Codec}.";
        if (!Enum.IsDefined(Aggregation)) return $"Unknown aggregation {Aggregation}.";
        if (Ivf is { } ivf && (ivf.ListCount < 1 || ivf.DefaultNProbe < 1 || ivf.TrainAtVectors < ivf.ListCount))
        {
            return "IVF settings need listCount ≥ 1, defaultNProbe ≥ 1 and trainAtVectors ≥ listCount.";
        }

        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();
}
