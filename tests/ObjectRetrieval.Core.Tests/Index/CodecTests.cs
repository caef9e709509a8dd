using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class CodecTests
{
    [Theory]
    [InlineData(VectorCodecKind.Int8, 0.01f)]
    [InlineData(VectorCodecKind.Float16, 0.001f)]
    [InlineData(VectorCodecKind.Float32, 1e-6f)]
    public void Scores_match_float_inner_products(VectorCodecKind kind, float tolerance)
    {
        const int dim = 200; // not a multiple of the SIMD widths: exercises the tails
        IVectorCodec codec = VectorCodecs.Create(kind, dim);
        float[] vectors = TestVectors.Unit(50, dim, 11);
        float[] query = TestVectors.Unit(1, dim, 12);
        byte[] codes = new byte[50 * codec.CodeBytes];
        float[] scales = new float[50];
        for (int i = 0; i < 50; i++) scales[i] = codec.Encode(vectors.AsSpan(i * dim, dim), codes.AsSpan(i * codec.CodeBytes, codec.CodeBytes));

        var prepared = new PreparedQuery(dim);
        codec.PrepareQuery(query, prepared);
        float[] scores = new float[50];
        codec.Score(prepared, codes, scales, scores);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(TensorPrimitives.Dot(query, vectors.AsSpan(i * dim, dim)), scores[i], tolerance);
        }

        float[] decoded = new float[dim];
        codec.Decode(codes.AsSpan(0, codec.CodeBytes), scales[0], decoded);
        Assert.True(TensorPrimitives.Distance(decoded, vectors.AsSpan(0, dim)) < tolerance * 10);
    }

    [Fact]
    public void Int8_kernels_agree_on_every_path()
    {
        var random = new Random(3);
        foreach (int dim in new[] { 1, 31, 64, 100, 512, 777 })
        {
            sbyte[] code = Enumerable.Range(0, dim).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            short[] query = Enumerable.Range(0, dim).Select(_ => (short)random.Next(-127, 128)).ToArray();
            int expected = code.Zip(query).Sum(p => p.First * p.Second);
            ref sbyte c = ref MemoryMarshal.GetArrayDataReference(code);
            ref short q = ref MemoryMarshal.GetArrayDataReference(query);
            Assert.Equal(expected, Int8VectorCodec.DotScalar(ref c, ref q, 0, dim, 0));
            if (Avx2.IsSupported) Assert.Equal(expected, Int8VectorCodec.DotAvx2(ref c, ref q, dim));
            if (Avx512BW.IsSupported) Assert.Equal(expected, Int8VectorCodec.DotAvx512(ref c, ref q, dim));

            float[] floatQuery = query.Select(v => (float)v).ToArray();
            Assert.Equal(expected, Int8VectorCodec.DotFloatQuery(ref c, ref MemoryMarshal.GetArrayDataReference(floatQuery), dim), 1e-3f * Math.Max(1, Math.Abs(expected)));
        }
    }

    [Fact]
    public void Int8_extremes_do_not_saturate()
    {
        const int dim = 512;
        var codec = new Int8VectorCodec(dim);
        float[] vector = Enumerable.Repeat(1f / MathF.Sqrt(dim), dim).ToArray();
        byte[] code = new byte[dim];
        float scale = codec.Encode(vector, code);
        var prepared = new PreparedQuery(dim);
        codec.PrepareQuery(vector, prepared);
        float[] score = new float[1];
        codec.Score(prepared, code, [scale], score);
        Assert.Equal(1f, score[0], 1e-4f);
        codec.PrepareQuery(vector.Select(v => -v).ToArray(), prepared);
        codec.Score(prepared, code, [scale], score);
        Assert.Equal(-1f, score[0], 1e-4f);
    }

    [Fact]
    public void Float_query_mode_scores_like_quantised_query_mode()
    {
        const int dim = 128;
        var quantised = new Int8VectorCodec(dim);
        var floatQuery = new Int8VectorCodec(dim, quantizeQuery: false);
        float[] vectors = TestVectors.Unit(20, dim, 4);
        float[] query = TestVectors.Unit(1, dim, 5);
        byte[] codes = new byte[20 * dim];
        float[] scales = new float[20];
        for (int i = 0; i < 20; i++) scales[i] = quantised.Encode(vectors.AsSpan(i * dim, dim), codes.AsSpan(i * dim, dim));
        var prepared = new PreparedQuery(dim);
        quantised.PrepareQuery(query, prepared);
        float[] a = new float[20], b = new float[20];
        quantised.Score(prepared, codes, scales, a);
        floatQuery.Score(prepared, codes, scales, b);
        for (int i = 0; i < 20; i++) Assert.Equal(b[i], a[i], 0.01f);
    }
}
