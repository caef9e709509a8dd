using ObjectRetrieval.Core.IO;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class VectorFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vecfiles").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Fvecs_ivecs_and_npy_round_trip()
    {
        float[] floats = TestVectors.Unit(7, 5, 1);
        string fvecs = Path.Combine(_dir, "a.fvecs");
        VectorFiles.WriteFvecs(fvecs, floats, 5);
        Assert.Equal(7 * (4 + 5 * 4), new FileInfo(fvecs).Length);
        VectorSet<float> read = VectorFiles.Load(fvecs);
        Assert.Equal((7, 5), (read.Count, read.Dimension));
        Assert.Equal(floats, read.Data);
        Assert.Equal(3, VectorFiles.ReadFvecs(fvecs, maxCount: 3).Count);

        string npy = Path.Combine(_dir, "a.npy");
        VectorFiles.Save(npy, floats, 5);
        Assert.Equal(floats, VectorFiles.Load(npy).Data);

        int[] ints = Enumerable.Range(-10, 12).ToArray();
        string ivecs = Path.Combine(_dir, "a.ivecs");
        VectorFiles.WriteIvecs(ivecs, ints, 4);
        VectorSet<int> readInts = VectorFiles.ReadIvecs(ivecs);
        Assert.Equal((3, 4), (readInts.Count, readInts.Dimension));
        Assert.Equal(ints, readInts.Data);
    }

    [Fact]
    public void Truncated_or_inconsistent_files_fail_naming_the_file()
    {
        string path = Path.Combine(_dir, "t.fvecs");
        VectorFiles.WriteFvecs(path, TestVectors.Unit(3, 8, 1), 8);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);
        var truncated = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadFvecs(path));
        Assert.Contains(path, truncated.Message);
        Assert.Contains("truncated", truncated.Message);

        // Second record claims another dimension but the sizes still add up.
        byte[] mixed = (byte[])bytes.Clone();
        BitConverter.GetBytes(9).CopyTo(mixed, 36);
        File.WriteAllBytes(path, mixed);
        Assert.Contains("vector 1 has dimension 9", Assert.Throws<InvalidDataException>(() => VectorFiles.ReadFvecs(path)).Message);

        Assert.Throws<FileNotFoundException>(() => VectorFiles.Load(Path.Combine(_dir, "missing.fvecs")));
    }
}
