using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>Full-precision codes: the reference the others are measured against.</summary>
public sealed class Float32VectorCodec : IVectorCodec
{
    public Float32VectorCodec(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Dimension = dimension;
    }

    public VectorCodecKind? Kind => VectorCodecKind.Float32;

    public int Dimension { get; }

    public int CodeBytes => Dimension * sizeof(float);

    public bool UsesScale => false;

    public float Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        MemoryMarshal.AsBytes(vector[..Dimension]).CopyTo(code);
        return 1f;
    }

    public void Decode(ReadOnlySpan<byte> code, float scale, Span<float> vector) =>
        MemoryMarshal.Cast<byte, float>(code[..CodeBytes]).CopyTo(vector);

    public void PrepareQuery(ReadOnlySpan<float> query, PreparedQuery prepared) => query.CopyTo(prepared.Values);

    public void Score(PreparedQuery query, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, Span<float> scores)
    {
        ReadOnlySpan<float> all = MemoryMarshal.Cast<byte, float>(codes);
        ReadOnlySpan<float> q = query.Values;
        int dim = Dimension;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = TensorPrimitives.Dot(all.Slice(i * dim, dim), q);
        }
    }
}
