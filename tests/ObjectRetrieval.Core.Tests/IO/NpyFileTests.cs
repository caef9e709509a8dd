using System.Text;
using ObjectRetrieval.Core.IO;

namespace ObjectRetrieval.Core.Tests.IO;

public sealed class NpyFileTests
{
    [Fact]
    public void Float32_round_trip_keeps_shape_and_values_and_aligns_data()
    {
        using var stream = new MemoryStream();
        float[] values = Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray();
        NpyFile.Write(stream, values, 2, 3, 4);
        Assert.Equal(0, (stream.Length - values.Length * 4) % 64);
        stream.Position = 0;
        NpyArray read = NpyFile.Read(stream);
        Assert.Equal([2, 3, 4], read.Shape);
        Assert.Equal(values, read.Data);
    }

    [Fact]
    public void Float16_arrays_are_widened()
    {
        Half[] halves = [(Half)1.5f, (Half)(-2f), (Half)0.25f];
        byte[] data = halves.SelectMany(h => BitConverter.GetBytes(h)).ToArray();
        using var stream = new MemoryStream(Build("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", data));
        Assert.Equal([1.5f, -2f, 0.25f], NpyFile.Read(stream).Data);
    }

    [Theory]
    [InlineData("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", "dtype '<i8'")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "Fortran")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, }", "shape")]
    public void Unsupported_headers_are_explained(string header, string expected)
    {
        using var stream = new MemoryStream(Build(header, new byte[8]));
        var e = Assert.Throws<InvalidDataException>(() => NpyFile.Read(stream));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Not_an_npy_file_is_refused()
    {
        using var stream = new MemoryStream(Encoding.ASCII.GetBytes("hello, world"));
        Assert.Throws<InvalidDataException>(() => NpyFile.Read(stream));
    }

    [Fact]
    public void Truncated_data_is_an_error_not_zeros()
    {
        using var stream = new MemoryStream(Build("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new byte[8]));
        Assert.Throws<EndOfStreamException>(() => NpyFile.Read(stream));
    }

    private static byte[] Build(string header, byte[] data)
    {
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange([1, 0]);
        string padded = header + "\n";
        bytes.AddRange(BitConverter.GetBytes((ushort)padded.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(padded));
        bytes.AddRange(data);
        return [.. bytes];
    }
}
