using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>IEEE half-precision codes: half the memory of float32, about three significant digits.</summary>
public sealed class Float16VectorCodec : IVectorCodec
{
    // Codes are widened to float in blocks of this many vectors, so the conversion runs over long spans.
    private const int RowsPerBlock = 16;

    public Float16VectorCodec(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Dimension = dimension;
    }

    public VectorCodecKind? Kind => VectorCodecKind.Float16;

    public int Dimension { get; }

    public int CodeBytes => Dimension * 2;

    public bool UsesScale => false;

    public float Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        TensorPrimitives.ConvertToHalf(vector[..Dimension], MemoryMarshal.Cast<byte, Half>(code[..CodeBytes]));
        return 1f;
    }

    public void Decode(ReadOnlySpan<byte> code, float scale, Span<float> vector) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(code[..CodeBytes]), vector[..Dimension]);

    public void PrepareQuery(ReadOnlySpan<float> query, PreparedQuery prepared) => query.CopyTo(prepared.Values);

    public void Score(PreparedQuery query, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, Span<float> scores)
    {
        ReadOnlySpan<Half> all = MemoryMarshal.Cast<byte, Half>(codes);
        ReadOnlySpan<float> q = query.Values;
        int dim = Dimension;
        float[] block = System.Buffers.ArrayPool<float>.Shared.Rent(RowsPerBlock * dim);
        try
        {
            for (int start = 0; start < scores.Length; start += RowsPerBlock)
            {
                int rows = Math.Min(RowsPerBlock, scores.Length - start);
                Span<float> widened = block.AsSpan(0, rows * dim);
                TensorPrimitives.ConvertToSingle(all.Slice(start * dim, rows * dim), widened);
                for (int r = 0; r < rows; r++)
                {
                    scores[start + r] = TensorPrimitives.Dot(widened.Slice(r * dim, dim), q);
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(block);
        }
    }
}
