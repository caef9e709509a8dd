using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>
/// Symmetric int8 codes with one float scale per vector: value i ≈ code[i] · scale, codes in
/// [-127, 127], scale = max |value| / 127. Four times smaller than float32.
/// By default the query is quantised the same way and scored with integer multiply-adds
/// (exact for the quantised values), then rescaled; <c>quantizeQuery: false</c> scores the float
/// query against widened codes instead (kept to compare the two by measurement).
/// </summary>
public sealed class Int8VectorCodec : IVectorCodec
{
    public const int MaxLevel = 127;

    public Int8VectorCodec(int dimension, bool quantizeQuery = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        // |sum| ≤ dimension · 127 · 127 must fit an int32 accumulator.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, int.MaxValue / (MaxLevel * MaxLevel));
        Dimension = dimension;
        QuantizesQuery = quantizeQuery;
    }

    public VectorCodecKind? Kind => VectorCodecKind.Int8;

    public int Dimension { get; }

    public int CodeBytes => Dimension;

    public bool UsesScale => true;

    public bool QuantizesQuery { get; }

    public float Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        vector = vector[..Dimension];
        Span<sbyte> levels = MemoryMarshal.Cast<byte, sbyte>(code[..Dimension]);
        float maxAbs = MathF.Abs(TensorPrimitives.MaxMagnitude(vector));
        if (maxAbs == 0f || !float.IsFinite(maxAbs))
        {
            levels.Clear();
            return 0f;
        }

        float toLevel = MaxLevel / maxAbs;
        for (int i = 0; i < vector.Length; i++)
        {
            levels[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * toLevel), -MaxLevel, MaxLevel);
        }

        return maxAbs / MaxLevel;
    }

    public void Decode(ReadOnlySpan<byte> code, float scale, Span<float> vector)
    {
        ReadOnlySpan<sbyte> levels = MemoryMarshal.Cast<byte, sbyte>(code[..Dimension]);
        for (int i = 0; i < levels.Length; i++)
        {
            vector[i] = levels[i] * scale;
        }
    }

    public void PrepareQuery(ReadOnlySpan<float> query, PreparedQuery prepared)
    {
        query.CopyTo(prepared.Values);
        Span<short> levels = prepared.Int8Levels;
        float maxAbs = MathF.Abs(TensorPrimitives.MaxMagnitude(query));
        if (maxAbs == 0f)
        {
            levels.Clear();
            prepared.Int8Scale = 0f;
            return;
        }

        float toLevel = MaxLevel / maxAbs;
        for (int i = 0; i < query.Length; i++)
        {
            levels[i] = (short)Math.Clamp(MathF.Round(query[i] * toLevel), -MaxLevel, MaxLevel);
        }

        prepared.Int8Scale = maxAbs / MaxLevel;
    }

    public void Score(PreparedQuery query, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, Span<float> scores)
    {
        int dim = Dimension;
        ref sbyte code = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(codes));
        if (codes.Length < scores.Length * dim || scales.Length < scores.Length)
        {
            throw new ArgumentException("Fewer codes or scales than scores requested.");
        }

        if (QuantizesQuery)
        {
            ref short q = ref MemoryMarshal.GetArrayDataReference(query.Int8Levels);
            float queryScale = query.Int8Scale;
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = Dot(ref Unsafe.Add(ref code, i * dim), ref q, dim) * (queryScale * scales[i]);
            }
        }
        else
        {
            ref float q = ref MemoryMarshal.GetArrayDataReference(query.Values);
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = DotFloatQuery(ref Unsafe.Add(ref code, i * dim), ref q, dim) * scales[i];
            }
        }
    }

    /// <summary>Integer inner product of int8 codes with an int16-held int8 query, on the widest SIMD the machine has.</summary>
    internal static int Dot(ref sbyte code, ref short query, int dim)
    {
        if (Avx512BW.IsSupported) return DotAvx512(ref code, ref query, dim);
        if (Avx2.IsSupported) return DotAvx2(ref code, ref query, dim);
        return DotScalar(ref code, ref query, 0, dim, 0);
    }

    // Codes are sign-extended to int16 and multiplied pairwise into int32 lanes (vpmovsxbw + vpmaddwd).
    // The byte-pair instruction (vpmaddubsw) would need an unsigned operand and saturates, and
    // .NET 10 exposes no 512-bit VNNI (vpdpbusd), so this is the exact and fastest portable form.
    internal static int DotAvx512(ref sbyte code, ref short query, int dim)
    {
        Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
        int i = 0;
        for (; i <= dim - 64; i += 64)
        {
            Vector512<short> c0 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref code, (nuint)i));
            Vector512<short> c1 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref code, (nuint)(i + 32)));
            acc0 += Avx512BW.MultiplyAddAdjacent(c0, Vector512.LoadUnsafe(ref query, (nuint)i));
            acc1 += Avx512BW.MultiplyAddAdjacent(c1, Vector512.LoadUnsafe(ref query, (nuint)(i + 32)));
        }

        int sum = Vector512.Sum(acc0 + acc1);
        return i == dim ? sum : DotAvx2Tail(ref code, ref query, i, dim, sum);
    }

    internal static int DotAvx2(ref sbyte code, ref short query, int dim) => DotAvx2Tail(ref code, ref query, 0, dim, 0);

    private static int DotAvx2Tail(ref sbyte code, ref short query, int start, int dim, int sum)
    {
        int i = start;
        if (Avx2.IsSupported)
        {
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
            for (; i <= dim - 32; i += 32)
            {
                Vector256<short> c0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref code, (nuint)i));
                Vector256<short> c1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref code, (nuint)(i + 16)));
                acc0 += Avx2.MultiplyAddAdjacent(c0, Vector256.LoadUnsafe(ref query, (nuint)i));
                acc1 += Avx2.MultiplyAddAdjacent(c1, Vector256.LoadUnsafe(ref query, (nuint)(i + 16)));
            }

            sum += Vector256.Sum(acc0 + acc1);
        }

        return DotScalar(ref code, ref query, i, dim, sum);
    }

    internal static int DotScalar(ref sbyte code, ref short query, int start, int dim, int sum)
    {
        for (int i = start; i < dim; i++)
        {
            sum += Unsafe.Add(ref code, i) * Unsafe.Add(ref query, i);
        }

        return sum;
    }

    /// <summary>Float query against int8 codes: codes widened to float, fused multiply-add.</summary>
    internal static float DotFloatQuery(ref sbyte code, ref float query, int dim)
    {
        int i = 0;
        float sum = 0f;
        if (Avx512F.IsSupported)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= dim - 32; i += 32)
            {
                Vector512<float> c0 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref code, (nuint)i)));
                Vector512<float> c1 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref code, (nuint)(i + 16))));
                acc0 = Avx512F.FusedMultiplyAdd(c0, Vector512.LoadUnsafe(ref query, (nuint)i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(c1, Vector512.LoadUnsafe(ref query, (nuint)(i + 16)), acc1);
            }

            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Avx2.IsSupported && Fma.IsSupported)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i <= dim - 8; i += 8)
            {
                // Exactly 8 bytes are read: a 16-byte load could run past the end of the last code.
                Vector128<sbyte> eight = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref code, i)))).AsSByte();
                Vector256<float> c = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(eight));
                acc = Fma.MultiplyAdd(c, Vector256.LoadUnsafe(ref query, (nuint)i), acc);
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < dim; i++)
        {
            sum += Unsafe.Add(ref code, i) * Unsafe.Add(ref query, i);
        }

        return sum;
    }
}
