using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class ProductQuantizerTests
{
    private const int Dim = 64;

    private static float[] Clustered(int count, int seed) =>
        new ClusteredVectorGenerator(Dim, 20, 0.8f, seed).Generate(count, ClusteredVectorGenerator.BaseStream);

    [Theory]
    [InlineData(16, 8, 0.25)]
    [InlineData(16, 4, 0.6)]
    [InlineData(32, 4, 0.45)]
    public void Decoded_codes_are_much_closer_than_the_mean_vector(int m, int bits, double maxRelativeError)
    {
        float[] data = Clustered(2000, 3);
        ProductQuantizer pq = ProductQuantizer.Train(data, 2000, Dim, m, bits, 12, seed: 1);
        float[] mean = new float[Dim];
        for (int i = 0; i < 2000; i++) TensorPrimitives.Add(mean, data.AsSpan(i * Dim, Dim), mean);
        TensorPrimitives.Multiply(mean, 1f / 2000, mean);

        byte[] code = new byte[m];
        float[] decoded = new float[Dim];
        double error = 0, spread = 0;
        for (int i = 0; i < 2000; i++)
        {
            ReadOnlySpan<float> x = data.AsSpan(i * Dim, Dim);
            pq.Encode(x, code);
            Assert.All(code, c => Assert.True(c < 1 << bits));
            pq.Decode(code, decoded);
            error += Math.Pow(TensorPrimitives.Distance(x, decoded), 2);
            spread += Math.Pow(TensorPrimitives.Distance(x, mean), 2);
        }

        Assert.True(error / spread < maxRelativeError, $"relative squared error {error / spread:F3}");
    }

    [Fact]
    public void Encoding_picks_the_nearest_centroid_of_every_sub_space()
    {
        float[] data = Clustered(600, 4);
        ProductQuantizer pq = ProductQuantizer.Train(data, 600, Dim, 8, 4, 5, seed: 2);
        byte[] code = new byte[8];
        ReadOnlySpan<float> x = data.AsSpan(0, Dim);
        pq.Encode(x, code);
        for (int m = 0; m < 8; m++)
        {
            float chosen = TensorPrimitives.Distance(x.Slice(m * pq.SubDimension, pq.SubDimension), pq.Centroid(m, code[m]));
            for (int c = 0; c < 16; c++)
            {
                Assert.True(chosen <= TensorPrimitives.Distance(x.Slice(m * pq.SubDimension, pq.SubDimension), pq.Centroid(m, c)) + 1e-5f);
            }
        }
    }

    [Fact]
    public void Asymmetric_scores_equal_the_inner_product_with_the_decoded_code()
    {
        float[] data = Clustered(1000, 5);
        var codec = new PqVectorCodec(ProductQuantizer.Train(data, 1000, Dim, 16, 8, 8, seed: 3));
        byte[] codes = new byte[50 * codec.CodeBytes];
        for (int i = 0; i < 50; i++) codec.Encode(data.AsSpan(i * Dim, Dim), codes.AsSpan(i * codec.CodeBytes, codec.CodeBytes));
        float[] query = TestVectors.Unit(1, Dim, 9);
        var prepared = new PreparedQuery(Dim);
        codec.PrepareQuery(query, prepared);
        float[] scores = new float[50];
        codec.Score(prepared, codes, default, scores);
        float[] decoded = new float[Dim];
        for (int i = 0; i < 50; i++)
        {
            codec.Decode(codes.AsSpan(i * codec.CodeBytes, codec.CodeBytes), 1f, decoded);
            Assert.Equal(TensorPrimitives.Dot(query, decoded), scores[i], 1e-4f);
        }
    }

    [Fact]
    public void Gathered_and_scalar_table_sums_agree()
    {
        var random = new Random(4);
        float[] table = new float[20 * 256];
        for (int i = 0; i < table.Length; i++) table[i] = (float)random.NextDouble() - 0.5f;
        byte[] code = new byte[20]; // 20: two gathers and a scalar tail
        random.NextBytes(code);
        float scalar = PqVectorCodec.AdcScalar(code, table);
        Assert.Equal(scalar, PqVectorCodec.Adc(code, table), 1e-5f);
        if (Avx2.IsSupported) Assert.Equal(scalar, PqVectorCodec.AdcAvx2(code, table), 1e-5f);
    }

    [Fact]
    public void Untrained_shapes_are_refused_with_reasons()
    {
        Assert.Contains("split evenly", Assert.Throws<ArgumentOutOfRangeException>(() => new ProductQuantizer(64, 5, 8, new float[64 * 256])).Message);
        Assert.Contains("4 or 8 bits", Assert.Throws<ArgumentOutOfRangeException>(() => new ProductQuantizer(64, 8, 6, new float[64 * 64])).Message);
        Assert.Contains("at least 256 vectors", Assert.Throws<ArgumentException>(() => ProductQuantizer.Train(new float[100 * Dim], 100, Dim, 8, 8, 2, 1)).Message);
    }
}
