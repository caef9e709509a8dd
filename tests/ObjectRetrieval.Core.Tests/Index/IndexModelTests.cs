using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Compressed;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class IndexModelTests
{
    private const int Dim = 32;

    private static (IndexModel Model, float[] Vectors) Trained()
    {
        float[] vectors = new ClusteredVectorGenerator(Dim, 10, 0.8f, 2).Generate(500, ClusteredVectorGenerator.BaseStream);
        return (IndexModel.Train(vectors, 500, Dim, new IndexModelOptions { ListCount = 8, SubQuantizers = 8, Bits = 8, Seed = 4 }), vectors);
    }

    private static byte[] Saved(IndexModel model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void A_saved_model_loads_back_and_encodes_identically()
    {
        (IndexModel model, float[] vectors) = Trained();
        IndexModel loaded = IndexModel.Load(new MemoryStream(Saved(model)));
        Assert.Equal(model.Fingerprint, loaded.Fingerprint);
        EncodedVectors a = model.Encode(vectors.AsSpan(0, 20 * Dim), 20);
        EncodedVectors b = loaded.Encode(vectors.AsSpan(0, 20 * Dim), 20);
        Assert.Equal(a.Lists, b.Lists);
        Assert.Equal(a.ProductCodes, b.ProductCodes);
        Assert.Equal(a.RerankCodes, b.RerankCodes);
        Assert.Equal(a.RerankScales, b.RerankScales);
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        Assert.Equal(Trained().Model.Fingerprint, Trained().Model.Fingerprint);
    }

    [Fact]
    public void Refinement_is_deterministic_and_yields_a_new_model_of_the_same_shape()
    {
        float[] vectors = new ClusteredVectorGenerator(Dim, 10, 0.8f, 2).Generate(500, ClusteredVectorGenerator.BaseStream);
        // k-means on 40 of the 500 vectors: passes over all of them must move the centroids.
        var options = new IndexModelOptions { ListCount = 8, SubQuantizers = 8, Bits = 8, Seed = 4, IvfTrainingVectors = 40, IvfIterations = 2 };
        IndexModel model = IndexModel.Train(vectors, 500, Dim, options);
        IndexModel once = model.Refine(vectors, 500, 1, options);
        Assert.Equal(once.Fingerprint, model.Refine(vectors, 500, 1, options).Fingerprint);
        Assert.NotEqual(model.Fingerprint, once.Fingerprint);
        Assert.Equal((model.ListCount, model.Quantizer.SubQuantizers, model.Quantizer.Bits), (once.ListCount, once.Quantizer.SubQuantizers, once.Quantizer.Bits));
    }

    [Fact]
    public void Another_format_version_is_refused_by_number()
    {
        byte[] bytes = Saved(Trained().Model);
        bytes[8] = 2;
        var error = Assert.Throws<InvalidDataException>(() => IndexModel.Load(new MemoryStream(bytes)));
        Assert.Contains("version 2 is not supported", error.Message);
    }

    [Fact]
    public void A_flipped_byte_is_refused_as_corruption()
    {
        byte[] bytes = Saved(Trained().Model);
        bytes[bytes.Length / 2] ^= 0x40;
        Assert.Contains("checksum mismatch", Assert.Throws<InvalidDataException>(() => IndexModel.Load(new MemoryStream(bytes))).Message);
    }

    [Fact]
    public void Something_that_is_not_a_model_is_refused()
    {
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => IndexModel.Load(new MemoryStream("hello, not a model at all"u8.ToArray()))).Message);
    }

    [Theory]
    [InlineData("pq32", 32, 8)]
    [InlineData("PQ64x4", 64, 4)]
    [InlineData("pq16x8", 16, 8)]
    public void Codec_names_parse_to_sub_quantisers_and_bits(string name, int m, int bits)
    {
        Assert.Equal((m, bits), IndexModelOptions.ParseCodec(name));
    }

    [Fact]
    public void Bad_codec_names_are_refused_and_others_left_alone()
    {
        Assert.Null(IndexModelOptions.ParseCodec("int8"));
        Assert.Contains("pqMx4", Assert.Throws<ArgumentException>(() => IndexModelOptions.ParseCodec("pq32x3")).Message);
    }
}
