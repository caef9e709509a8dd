using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Core.Tests.Representation;

public sealed class RepresentationSerializerTests
{
    private static ImageRepresentation Sample(bool dense = false)
    {
        var random = new DeterministicRandom(11);
        float[][] directions = Enumerable.Range(0, 3).Select(_ => TestVectors.RandomUnit(random, 16)).ToArray();
        var patches = TestVectors.Grouped(directions, Enumerable.Range(0, 16).Select(i => i % 3).ToArray(), 0.3, 12, gridWidth: 4);
        var aggregated = new SphericalKMeans(new AggregationOptions { Clusters = 3 }).Aggregate("blob://c/a.jpg", patches);
        return ImageRepresentation.From("blob://c/a.jpg", patches, aggregated, dense, "https://acct.blob/c/a.jpg",
            new Dictionary<string, string> { ["etag"] = "0x8D", ["width"] = "640" });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Round_trip_keeps_every_field(bool dense)
    {
        ImageRepresentation original = Sample(dense);
        ImageRepresentation copy = RepresentationSerializer.Deserialize(RepresentationSerializer.Serialize(original));

        Assert.Equal(original.ImageId, copy.ImageId);
        Assert.Equal(original.Dimension, copy.Dimension);
        Assert.Equal(original.Global, copy.Global);
        Assert.Equal(original.Centroids, copy.Centroids);
        Assert.Equal(original.CentroidCount, copy.CentroidCount);
        Assert.Equal(original.ClusterSizes, copy.ClusterSizes);
        Assert.Equal(original.Assignment, copy.Assignment);
        Assert.Equal((original.GridWidth, original.GridHeight), (copy.GridWidth, copy.GridHeight));
        Assert.Equal(original.SourceUri, copy.SourceUri);
        Assert.Equal(original.Metadata, copy.Metadata);
        Assert.Equal(original.DensePatches, copy.DensePatches);
    }

    [Fact]
    public void Consecutive_records_read_back_in_order()
    {
        using var stream = new MemoryStream();
        ImageRepresentation a = Sample();
        ImageRepresentation b = a with { ImageId = "second" };
        RepresentationSerializer.Write(stream, a);
        RepresentationSerializer.Write(stream, b);
        Assert.Equal(["blob://c/a.jpg", "second"], RepresentationSerializer.ReadAll(stream.ToArray()).Select(r => r.ImageId));
    }

    [Fact]
    public void Every_single_flipped_byte_is_detected()
    {
        byte[] data = RepresentationSerializer.Serialize(Sample());
        for (int i = 0; i < data.Length; i++)
        {
            byte[] copy = (byte[])data.Clone();
            copy[i] ^= 0x40;
            Assert.Throws<CorruptRepresentationException>(() => RepresentationSerializer.Deserialize(copy));
        }
    }

    [Fact]
    public void Every_truncation_is_detected()
    {
        byte[] data = RepresentationSerializer.Serialize(Sample());
        for (int length = 0; length < data.Length; length++)
        {
            var e = Assert.Throws<CorruptRepresentationException>(() => RepresentationSerializer.Deserialize(data.AsSpan(0, length)));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
    }

    [Fact]
    public void Checksum_error_names_the_cause()
    {
        byte[] data = RepresentationSerializer.Serialize(Sample());
        data[20] ^= 1;
        var e = Assert.Throws<CorruptRepresentationException>(() => RepresentationSerializer.Deserialize(data));
        Assert.Contains("Checksum", e.Message);
    }

    [Fact]
    public void Unknown_version_is_refused()
    {
        byte[] data = RepresentationSerializer.Serialize(Sample());
        data[4] = 99;
        var e = Assert.Throws<CorruptRepresentationException>(() => RepresentationSerializer.Deserialize(data));
        Assert.Contains("version 99", e.Message);
    }
}
