using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Cli;

/// <summary>The index evaluations rank with: exact search with the product's default codec, so the table shows what users get.</summary>
internal static class EvaluationIndex
{
    public static FlatVectorIndex Create(int dimension) => new(dimension, VectorCodecKind.Int8);
}
