using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ObjectRetrieval.Core.IO;

/// <summary>Row-major vectors read from a file: <see cref="Count"/> rows of <see cref="Dimension"/> values.</summary>
public sealed record VectorSet<T>(T[] Data, int Count, int Dimension) where T : unmanaged
{
    public ReadOnlySpan<T> Row(int index) => Data.AsSpan(index * Dimension, Dimension);
}

/// <summary>
/// The TEXMEX vector formats (.fvecs float32, .ivecs int32): per vector, its dimension as a
/// little-endian int32, then the values. All vectors of a file must share one dimension.
/// </summary>
public static class VectorFiles
{
    public static VectorSet<float> ReadFvecs(string path, int maxCount = int.MaxValue) => Read<float>(path, maxCount);

    public static VectorSet<int> ReadIvecs(string path, int maxCount = int.MaxValue) => Read<int>(path, maxCount);

    public static void WriteFvecs(string path, ReadOnlySpan<float> data, int dimension) => Write(path, data, dimension);

    public static void WriteIvecs(string path, ReadOnlySpan<int> data, int dimension) => Write(path, data, dimension);

    /// <summary>Loads float vectors from .fvecs or a 2-D float32 .npy, chosen by extension.</summary>
    public static VectorSet<float> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        switch (extension)
        {
            case ".fvecs":
                return ReadFvecs(path);
            case ".npy":
                NpyArray array = NpyFile.Read(path);
                if (array.Shape.Length != 2) throw new InvalidDataException($"{path}: expected a 2-D array (vectors × dimension), got shape ({string.Join(", ", array.Shape)}).");
                return new VectorSet<float>(array.Data, array.Shape[0], array.Shape[1]);
            default:
                throw new InvalidDataException($"{path}: unknown vector file type '{extension}'; use .fvecs or .npy.");
        }
    }

    /// <summary>Writes float vectors as .fvecs or .npy, chosen by extension.</summary>
    public static void Save(string path, ReadOnlySpan<float> data, int dimension)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        switch (extension)
        {
            case ".fvecs":
                WriteFvecs(path, data, dimension);
                break;
            case ".npy":
                NpyFile.Write(path, data, data.Length / dimension, dimension);
                break;
            default:
                throw new ArgumentException($"{path}: unknown vector file type '{extension}'; use .fvecs or .npy.", nameof(path));
        }
    }

    private static VectorSet<T> Read<T>(string path, int maxCount) where T : unmanaged
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Span<byte> header = stackalloc byte[4];
        if (stream.Length == 0) return new VectorSet<T>([], 0, 0);
        if (stream.Length < 4) throw new InvalidDataException($"{path}: truncated ({stream.Length} bytes, not even one dimension header).");
        stream.ReadExactly(header);
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (dimension <= 0 || dimension > 1 << 20) throw new InvalidDataException($"{path}: implausible dimension {dimension} in the first record.");
        long recordBytes = 4 + (long)dimension * 4;
        if (stream.Length % recordBytes != 0)
        {
            throw new InvalidDataException($"{path}: truncated or not {typeof(T).Name} vectors of dimension {dimension}: {stream.Length} bytes is not a whole number of {recordBytes}-byte records.");
        }

        long total = stream.Length / recordBytes;
        int count = (int)Math.Min(total, maxCount);
        if ((long)count * dimension > Array.MaxLength) throw new InvalidDataException($"{path}: {count} × {dimension} values do not fit one array; read fewer vectors.");
        stream.Position = 0;
        var data = new T[(long)count * dimension];
        byte[] record = new byte[recordBytes];
        for (int i = 0; i < count; i++)
        {
            stream.ReadExactly(record);
            int rowDimension = BinaryPrimitives.ReadInt32LittleEndian(record);
            if (rowDimension != dimension) throw new InvalidDataException($"{path}: vector {i} has dimension {rowDimension}, the file started with {dimension}.");
            record.AsSpan(4).CopyTo(MemoryMarshal.AsBytes(data.AsSpan(i * dimension, dimension)));
        }

        return new VectorSet<T>(data, count, dimension);
    }

    private static void Write<T>(string path, ReadOnlySpan<T> data, int dimension) where T : unmanaged
    {
        using var writer = new VectorFileWriter<T>(path, dimension);
        writer.Append(data);
    }
}

/// <summary>Streams vectors into an .fvecs/.ivecs file without holding them all in memory.</summary>
public sealed class VectorFileWriter<T> : IDisposable where T : unmanaged
{
    private readonly FileStream _stream;
    private readonly byte[] _header = new byte[4];

    public VectorFileWriter(string path, int dimension)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(int)) throw new NotSupportedException("Only float (.fvecs) and int (.ivecs) vectors.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Dimension = dimension;
        BinaryPrimitives.WriteInt32LittleEndian(_header, dimension);
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public int Dimension { get; }

    public long Count { get; private set; }

    /// <summary>Appends whole vectors (row-major; a multiple of <see cref="Dimension"/> values).</summary>
    public void Append(ReadOnlySpan<T> vectors)
    {
        if (vectors.Length % Dimension != 0) throw new ArgumentException($"{vectors.Length} values is not a whole number of {Dimension}-dimensional vectors.", nameof(vectors));
        for (int i = 0; i < vectors.Length; i += Dimension)
        {
            _stream.Write(_header);
            _stream.Write(MemoryMarshal.AsBytes(vectors.Slice(i, Dimension)));
            Count++;
        }
    }

    public void Dispose() => _stream.Dispose();
}
