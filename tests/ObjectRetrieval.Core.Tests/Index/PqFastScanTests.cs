using System.Runtime.Intrinsics.X86;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class PqFastScanTests
{
    private static (byte[] Codes, byte[] Blocks, byte[] Table) Random4Bit(int count, int m, int seed)
    {
        var random = new Random(seed);
        byte[] codes = new byte[count * m];
        for (int i = 0; i < codes.Length; i++) codes[i] = (byte)random.Next(16);
        byte[] blocks = new byte[PqFastScan.BlockCount(count) * PqFastScan.BlockBytes(m)];
        PqFastScan.Pack(codes, count, m, blocks);
        byte[] table = new byte[m * 16];
        random.NextBytes(table);
        return (codes, blocks, table);
    }

    [Fact]
    public void Packed_codes_unpack_to_the_originals()
    {
        (byte[] codes, byte[] blocks, _) = Random4Bit(70, 16, 1);
        byte[] code = new byte[16];
        for (int i = 0; i < 70; i++)
        {
            PqFastScan.Unpack(blocks, i, 16, code);
            Assert.Equal(codes.AsSpan(i * 16, 16).ToArray(), code);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(6)] // not a multiple of 4: AVX-512 steps aside for AVX2
    public void Every_kernel_gives_the_exact_table_sums(int m)
    {
        (byte[] codes, byte[] blocks, byte[] table) = Random4Bit(100, m, 2);
        int blockCount = PqFastScan.BlockCount(100);
        ushort[] scalar = new ushort[blockCount * 32];
        PqFastScan.ScoreScalar(table, blocks, blockCount, m, scalar);
        for (int i = 0; i < 100; i++)
        {
            int expected = 0;
            for (int s = 0; s < m; s++) expected += table[s * 16 + codes[i * m + s]];
            Assert.Equal(expected, scalar[i]);
        }

        ushort[] dispatched = new ushort[blockCount * 32];
        PqFastScan.Score(table, blocks, blockCount, m, dispatched);
        Assert.Equal(scalar, dispatched);
        if (Avx2.IsSupported)
        {
            ushort[] avx2 = new ushort[blockCount * 32];
            PqFastScan.ScoreAvx2(table, blocks, blockCount, m, avx2);
            Assert.Equal(scalar, avx2);
        }

        if (Avx512BW.IsSupported && m % 4 == 0)
        {
            ushort[] avx512 = new ushort[blockCount * 32];
            PqFastScan.ScoreAvx512(table, blocks, blockCount, m, avx512);
            Assert.Equal(scalar, avx512);
        }
    }

    [Fact]
    public void Quantised_table_sums_track_the_float_sums_within_rounding()
    {
        const int m = 32;
        var random = new Random(3);
        float[] table = new float[m * 16];
        for (int i = 0; i < table.Length; i++) table[i] = (float)(random.NextDouble() * 0.2 - 0.1);
        byte[] quantized = new byte[m * 16];
        (float scale, float bias) = PqFastScan.QuantizeTable(table, quantized);
        byte[] code = new byte[m];
        for (int trial = 0; trial < 100; trial++)
        {
            float exact = 0;
            int sum = 0;
            for (int s = 0; s < m; s++)
            {
                code[s] = (byte)random.Next(16);
                exact += table[s * 16 + code[s]];
                sum += quantized[s * 16 + code[s]];
            }

            // Each entry is off by at most half a step.
            Assert.InRange(bias + sum / scale, exact - m * 0.5f / scale - 1e-5f, exact + m * 0.5f / scale + 1e-5f);
        }
    }
}
