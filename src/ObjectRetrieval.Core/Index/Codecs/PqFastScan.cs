using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>
/// 4-bit product-quantised codes in the fast-scan layout (after FAISS' PQ fast scan): vectors in
/// blocks of 32; in a block, sub-quantiser m takes 16 bytes whose byte j holds vector j's code in the
/// low nibble and vector j + 16's in the high one. The query's table is quantised to one byte per
/// entry (16 per sub-quantiser), so one 16-byte table sits in a SIMD lane and a byte shuffle looks up
/// 16 vectors at once: AVX-512 handles four sub-quantisers per instruction, AVX2 two. Sums are
/// exact in 16 bits (M · 255 &lt; 65,536 for M ≤ 256); score ≈ bias + sum / scale.
/// Not an <see cref="IVectorCodec"/>: one vector's code is spread over its block, so codes cannot
/// lie back to back, and the integer scores feed a threshold test before any float is formed.
/// </summary>
public static class PqFastScan
{
    public const int BlockVectors = 32;

    public const int CentroidsPerSubQuantizer = 16;

    /// <summary>Bytes of one block of 32 vectors with <paramref name="subQuantizers"/> sub-quantisers.</summary>
    public static int BlockBytes(int subQuantizers) => subQuantizers * 16;

    public static int BlockCount(int vectors) => (vectors + BlockVectors - 1) / BlockVectors;

    /// <summary>Packs <paramref name="count"/> unpacked codes (one byte per sub-quantiser, values &lt; 16) into blocks; padding vectors get code 0.</summary>
    public static void Pack(ReadOnlySpan<byte> codes, int count, int subQuantizers, Span<byte> blocks)
    {
        if (subQuantizers % 2 != 0) throw new ArgumentOutOfRangeException(nameof(subQuantizers), subQuantizers, "Fast scan needs an even number of sub-quantisers.");
        blocks[..(BlockCount(count) * BlockBytes(subQuantizers))].Clear();
        for (int i = 0; i < count; i++)
        {
            Span<byte> block = blocks.Slice(i / BlockVectors * BlockBytes(subQuantizers), BlockBytes(subQuantizers));
            int j = i % BlockVectors;
            int shift = j < 16 ? 0 : 4;
            for (int m = 0; m < subQuantizers; m++)
            {
                block[m * 16 + (j & 15)] |= (byte)((codes[i * subQuantizers + m] & 0x0F) << shift);
            }
        }
    }

    /// <summary>Reads back vector <paramref name="index"/>'s unpacked code.</summary>
    public static void Unpack(ReadOnlySpan<byte> blocks, int index, int subQuantizers, Span<byte> code)
    {
        ReadOnlySpan<byte> block = blocks.Slice(index / BlockVectors * BlockBytes(subQuantizers), BlockBytes(subQuantizers));
        int j = index % BlockVectors;
        int shift = j < 16 ? 0 : 4;
        for (int m = 0; m < subQuantizers; m++) code[m] = (byte)((block[m * 16 + (j & 15)] >> shift) & 0x0F);
    }

    /// <summary>
    /// Quantises a float table (M × 16) to bytes with one scale for all sub-quantisers, so sums stay comparable:
    /// entry = round((value − min_m) · scale); returns (scale, bias = Σ_m min_m).
    /// </summary>
    public static (float Scale, float Bias) QuantizeTable(ReadOnlySpan<float> table, Span<byte> quantized)
    {
        int subQuantizers = table.Length / 16;
        float bias = 0f, widest = 0f;
        Span<float> minima = stackalloc float[subQuantizers];
        for (int m = 0; m < subQuantizers; m++)
        {
            ReadOnlySpan<float> row = table.Slice(m * 16, 16);
            float min = System.Numerics.Tensors.TensorPrimitives.Min(row);
            minima[m] = min;
            bias += min;
            widest = MathF.Max(widest, System.Numerics.Tensors.TensorPrimitives.Max(row) - min);
        }

        float scale = widest > 0f ? 255f / widest : 1f;
        for (int m = 0; m < subQuantizers; m++)
        {
            for (int c = 0; c < 16; c++)
            {
                quantized[m * 16 + c] = (byte)Math.Clamp(MathF.Round((table[m * 16 + c] - minima[m]) * scale), 0f, 255f);
            }
        }

        return (scale, bias);
    }

    /// <summary>scores[i] = Σ_m quantizedTable[m · 16 + code_i[m]] for every vector of <paramref name="blockCount"/> blocks, in vector order.</summary>
    public static void Score(ReadOnlySpan<byte> quantizedTable, ReadOnlySpan<byte> blocks, int blockCount, int subQuantizers, Span<ushort> scores)
    {
        if (blocks.Length < blockCount * BlockBytes(subQuantizers) || scores.Length < blockCount * BlockVectors || quantizedTable.Length < subQuantizers * 16)
        {
            throw new ArgumentException("Blocks, table or scores are shorter than the block count says.");
        }

        if (Avx512BW.IsSupported && subQuantizers % 4 == 0) ScoreAvx512(quantizedTable, blocks, blockCount, subQuantizers, scores);
        else if (Avx2.IsSupported) ScoreAvx2(quantizedTable, blocks, blockCount, subQuantizers, scores);
        else ScoreScalar(quantizedTable, blocks, blockCount, subQuantizers, scores);
    }

    internal static void ScoreAvx512(ReadOnlySpan<byte> quantizedTable, ReadOnlySpan<byte> blocks, int blockCount, int subQuantizers, Span<ushort> scores)
    {
        ref byte table = ref MemoryMarshal.GetReference(quantizedTable);
        ref byte codes = ref MemoryMarshal.GetReference(blocks);
        ref ushort output = ref MemoryMarshal.GetReference(scores);
        int blockBytes = BlockBytes(subQuantizers);
        Vector512<byte> nibble = Vector512.Create((byte)0x0F);
        Vector512<ushort> lowByte = Vector512.Create((ushort)0x00FF);
        for (int b = 0; b < blockCount; b++)
        {
            ref byte block = ref Unsafe.Add(ref codes, b * blockBytes);
            Vector512<ushort> loEven = default, loOdd = default, hiEven = default, hiOdd = default;
            for (int m = 0; m < subQuantizers; m += 4)
            {
                Vector512<byte> c = Vector512.LoadUnsafe(ref block, (nuint)(m * 16));
                Vector512<byte> t = Vector512.LoadUnsafe(ref table, (nuint)(m * 16));
                Vector512<ushort> lo = Avx512BW.Shuffle(t, c & nibble).AsUInt16();
                Vector512<ushort> hi = Avx512BW.Shuffle(t, Vector512.ShiftRightLogical(c.AsUInt16(), 4).AsByte() & nibble).AsUInt16();
                loEven += lo & lowByte;
                loOdd += Vector512.ShiftRightLogical(lo, 8);
                hiEven += hi & lowByte;
                hiOdd += Vector512.ShiftRightLogical(hi, 8);
            }

            StoreBlock(Fold(loEven), Fold(loOdd), Fold(hiEven), Fold(hiOdd), ref Unsafe.Add(ref output, b * BlockVectors));
        }

        static Vector128<ushort> Fold(Vector512<ushort> v)
        {
            Vector256<ushort> half = v.GetLower() + v.GetUpper();
            return half.GetLower() + half.GetUpper();
        }
    }

    internal static void ScoreAvx2(ReadOnlySpan<byte> quantizedTable, ReadOnlySpan<byte> blocks, int blockCount, int subQuantizers, Span<ushort> scores)
    {
        ref byte table = ref MemoryMarshal.GetReference(quantizedTable);
        ref byte codes = ref MemoryMarshal.GetReference(blocks);
        ref ushort output = ref MemoryMarshal.GetReference(scores);
        int blockBytes = BlockBytes(subQuantizers);
        Vector256<byte> nibble = Vector256.Create((byte)0x0F);
        Vector256<ushort> lowByte = Vector256.Create((ushort)0x00FF);
        for (int b = 0; b < blockCount; b++)
        {
            ref byte block = ref Unsafe.Add(ref codes, b * blockBytes);
            Vector256<ushort> loEven = default, loOdd = default, hiEven = default, hiOdd = default;
            for (int m = 0; m < subQuantizers; m += 2)
            {
                Vector256<byte> c = Vector256.LoadUnsafe(ref block, (nuint)(m * 16));
                Vector256<byte> t = Vector256.LoadUnsafe(ref table, (nuint)(m * 16));
                Vector256<ushort> lo = Avx2.Shuffle(t, c & nibble).AsUInt16();
                Vector256<ushort> hi = Avx2.Shuffle(t, Vector256.ShiftRightLogical(c.AsUInt16(), 4).AsByte() & nibble).AsUInt16();
                loEven += lo & lowByte;
                loOdd += Vector256.ShiftRightLogical(lo, 8);
                hiEven += hi & lowByte;
                hiOdd += Vector256.ShiftRightLogical(hi, 8);
            }

            StoreBlock(loEven.GetLower() + loEven.GetUpper(), loOdd.GetLower() + loOdd.GetUpper(),
                hiEven.GetLower() + hiEven.GetUpper(), hiOdd.GetLower() + hiOdd.GetUpper(), ref Unsafe.Add(ref output, b * BlockVectors));
        }
    }

    // Even/odd accumulators hold vectors 0, 2, … 14 and 1, 3, … 15 (and 16 + the same): interleave back to vector order.
    private static void StoreBlock(Vector128<ushort> loEven, Vector128<ushort> loOdd, Vector128<ushort> hiEven, Vector128<ushort> hiOdd, ref ushort output)
    {
        Sse2.UnpackLow(loEven, loOdd).StoreUnsafe(ref output, 0);
        Sse2.UnpackHigh(loEven, loOdd).StoreUnsafe(ref output, 8);
        Sse2.UnpackLow(hiEven, hiOdd).StoreUnsafe(ref output, 16);
        Sse2.UnpackHigh(hiEven, hiOdd).StoreUnsafe(ref output, 24);
    }

    internal static void ScoreScalar(ReadOnlySpan<byte> quantizedTable, ReadOnlySpan<byte> blocks, int blockCount, int subQuantizers, Span<ushort> scores)
    {
        int blockBytes = BlockBytes(subQuantizers);
        for (int b = 0; b < blockCount; b++)
        {
            ReadOnlySpan<byte> block = blocks.Slice(b * blockBytes, blockBytes);
            for (int j = 0; j < BlockVectors; j++)
            {
                int shift = j < 16 ? 0 : 4;
                int sum = 0;
                for (int m = 0; m < subQuantizers; m++) sum += quantizedTable[m * 16 + ((block[m * 16 + (j & 15)] >> shift) & 0x0F)];
                scores[b * BlockVectors + j] = (ushort)sum;
            }
        }
    }
}
