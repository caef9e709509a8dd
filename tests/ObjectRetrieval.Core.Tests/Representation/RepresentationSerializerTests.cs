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

    private static byte[] Records(int count, out ImageRepresentation[] written)
    {
        ImageRepresentation sample = Sample(dense: true);
        written = Enumerable.Range(0, count).Select(i => sample with { ImageId = $"image-{i}" }).ToArray();
        using var stream = new MemoryStream();
        foreach (ImageRepresentation r in written) RepresentationSerializer.Write(stream, r);
        return stream.ToArray();
    }

    [Fact]
    public async Task Stream_reader_returns_every_record_then_null_at_a_clean_end()
    {
        using var stream = new MemoryStream(Records(200, out ImageRepresentation[] written));
        var read = new List<ImageRepresentation>();
        while (await RepresentationSerializer.ReadAsync(stream) is { } r) read.Add(r);

        Assert.Equal(written.Select(r => r.ImageId), read.Select(r => r.ImageId));
        Assert.All(read, r => Assert.Equal(written[0].DensePatches, r.DensePatches));
        Assert.Null(await RepresentationSerializer.ReadAsync(stream));
    }

    [Fact]
    public async Task Empty_stream_is_a_clean_end()
    {
        using var stream = new MemoryStream();
        Assert.Null(await RepresentationSerializer.ReadAsync(stream));
        Assert.Null(await RepresentationSerializer.ReadRecordAsync(stream));
    }

    [Fact]
    public async Task Raw_records_copy_byte_for_byte()
    {
        byte[] data = Records(20, out _);
        using var source = new MemoryStream(data);
        using var copy = new MemoryStream();
        while (await RepresentationSerializer.ReadRecordAsync(source) is { } record) await copy.WriteAsync(record);

        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task Stream_reader_detects_every_truncation_of_the_last_record()
    {
        byte[] data = Records(3, out _);
        int recordLength = data.Length / 3;
        for (int cut = 1; cut < recordLength; cut++)
        {
            using var stream = new MemoryStream(data, 0, data.Length - cut);
            Assert.NotNull(await RepresentationSerializer.ReadAsync(stream));
            Assert.NotNull(await RepresentationSerializer.ReadAsync(stream));
            var e = await Assert.ThrowsAsync<CorruptRepresentationException>(() => RepresentationSerializer.ReadAsync(stream).AsTask());
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public async Task Stream_reader_detects_a_flipped_byte_in_any_record()
    {
        byte[] data = Records(3, out _);
        for (int i = 0; i < data.Length; i += 97)
        {
            byte[] copy = (byte[])data.Clone();
            copy[i] ^= 0x40;
            using var stream = new MemoryStream(copy);
            await Assert.ThrowsAsync<CorruptRepresentationException>(async () =>
            {
                while (await RepresentationSerializer.ReadRecordAsync(stream) is not null)
                {
                }
            });
        }
    }
}
