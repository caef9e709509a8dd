using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>
/// Product-quantised codes, 8 bits per sub-quantiser (one byte each, <see cref="CodeBytes"/> = M):
/// scored by asymmetric distance computation, the query's table of sub-space inner products summed
/// over a code's entries. On AVX2 eight table entries are fetched per gather; .NET exposes no
/// 512-bit gather, so the wider path is the 4-bit fast-scan layout (<see cref="PqFastScan"/>).
/// Encodes whatever it is given: an index that wants residuals subtracts the list centroid first.
/// </summary>
public sealed class PqVectorCodec : IVectorCodec
{
    public PqVectorCodec(ProductQuantizer quantizer)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        if (quantizer.Bits != 8) throw new ArgumentException("This codec stores one byte per sub-quantiser; use PqFastScan for 4-bit quantisers.", nameof(quantizer));
        Quantizer = quantizer;
    }

    public ProductQuantizer Quantizer { get; }

    public VectorCodecKind? Kind => null;

    public int Dimension => Quantizer.Dimension;

    public int CodeBytes => Quantizer.SubQuantizers;

    public bool UsesScale => false;

    public float Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        Quantizer.Encode(vector, code);
        return 1f;
    }

    public void Decode(ReadOnlySpan<byte> code, float scale, Span<float> vector) => Quantizer.Decode(code, vector);

    public void PrepareQuery(ReadOnlySpan<float> query, PreparedQuery prepared)
    {
        query.CopyTo(prepared.Values);
        Quantizer.ComputeInnerProductTable(query, prepared.ProductTable(Quantizer.TableLength));
    }

    public void Score(PreparedQuery query, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, Span<float> scores)
    {
        int m = CodeBytes;
        if (codes.Length < scores.Length * m) throw new ArgumentException("Fewer codes than scores requested.");
        ReadOnlySpan<float> table = query.ProductTable(Quantizer.TableLength);
        for (int i = 0; i < scores.Length; i++) scores[i] = Adc(codes.Slice(i * m, m), table);
    }

    /// <summary>Σ_m table[m · 256 + code[m]] on the widest path the machine has.</summary>
    public static float Adc(ReadOnlySpan<byte> code, ReadOnlySpan<float> table) =>
        Avx2.IsSupported ? AdcAvx2(code, table) : AdcScalar(code, table);

    internal static unsafe float AdcAvx2(ReadOnlySpan<byte> code, ReadOnlySpan<float> table)
    {
        if (table.Length < code.Length * 256) throw new ArgumentException("The table is shorter than the code needs.", nameof(table));
        int m = code.Length;
        int j = 0;
        float sum = 0f;
        fixed (float* t = table)
        {
            ref byte c = ref MemoryMarshal.GetReference(code);
            Vector256<int> offsets = Vector256.Create(0, 256, 512, 768, 1024, 1280, 1536, 1792);
            Vector256<float> acc = Vector256<float>.Zero;
            for (; j <= m - 8; j += 8)
            {
                Vector128<byte> bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref c, j))).AsByte();
                Vector256<int> index = Avx2.ConvertToVector256Int32(bytes) + offsets + Vector256.Create(j * 256);
                acc += Avx2.GatherVector256(t, index, 4);
            }

            sum = Vector256.Sum(acc);
        }

        for (; j < m; j++) sum += table[j * 256 + code[j]];
        return sum;
    }

    internal static float AdcScalar(ReadOnlySpan<byte> code, ReadOnlySpan<float> table)
    {
        float sum = 0f;
        for (int j = 0; j < code.Length; j++) sum += table[j * 256 + code[j]];
        return sum;
    }
}
