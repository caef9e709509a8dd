using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index.Compressed;

/// <summary>
/// The exact re-rank codes of a compressed index on local disk: a 32-byte header (magic, format
/// version, dimension, row count, model fingerprint), then per row its D int8 values and float scale.
/// Rows are numbered in the order they were appended; the hot path keeps only row numbers.
/// </summary>
public static class RerankCodeFile
{
    public const int FormatVersion = 1;

    public const int HeaderBytes = 32;

    internal static ReadOnlySpan<byte> Magic => "ORIXRRNK"u8;

    public static long RecordBytes(int dimension) => dimension + sizeof(float);
}

/// <summary>Appends re-rank codes to a new file; <see cref="Complete"/> writes the row count into the header.</summary>
public sealed class RerankCodeWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly uint _fingerprint;

    public RerankCodeWriter(string path, int dimension, uint modelFingerprint)
    {
        Path = path;
        Dimension = dimension;
        _fingerprint = modelFingerprint;
        _stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 20);
        _stream.Write(new byte[RerankCodeFile.HeaderBytes]);
    }

    public string Path { get; }

    public int Dimension { get; }

    public long RowCount { get; private set; }

    public void Append(ReadOnlySpan<sbyte> code, float scale)
    {
        if (code.Length != Dimension) throw new ArgumentException($"A re-rank code has {Dimension} values; {code.Length} given.", nameof(code));
        _stream.Write(MemoryMarshal.AsBytes(code));
        Span<byte> scaleBytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(scaleBytes, scale);
        _stream.Write(scaleBytes);
        RowCount++;
    }

    /// <summary>Finishes the header and flushes the file to disk.</summary>
    public void Complete()
    {
        Span<byte> header = stackalloc byte[RerankCodeFile.HeaderBytes];
        header.Clear();
        RerankCodeFile.Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], RerankCodeFile.FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], Dimension);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], RowCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], _fingerprint);
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Re-rank codes read through a read-only memory map: outside the managed heap, paged in by the OS
/// (at scale from NVMe), so they count as disk, not RAM. Thread-safe for concurrent scoring.
/// </summary>
public sealed unsafe class RerankCodeReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _rows;
    private readonly long _recordBytes;

    public RerankCodeReader(string path, int dimension, uint modelFingerprint)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: re-rank code file not found.", path);
        long length = new FileInfo(path).Length;
        if (length < RerankCodeFile.HeaderBytes) throw new InvalidDataException($"{path}: too short for a re-rank code file ({length} bytes).");
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        start += _view.PointerOffset;
        try
        {
            var header = new ReadOnlySpan<byte>(start, RerankCodeFile.HeaderBytes);
            if (!header[..8].SequenceEqual(RerankCodeFile.Magic)) throw new InvalidDataException($"{path}: not a re-rank code file (magic bytes missing).");
            int version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            if (version != RerankCodeFile.FormatVersion) throw new InvalidDataException($"{path}: re-rank code format version {version} is not supported; this build reads {RerankCodeFile.FormatVersion}.");
            int fileDimension = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            if (fileDimension != dimension) throw new InvalidDataException($"{path}: holds {fileDimension}-dimensional codes; the model has {dimension}.");
            uint fingerprint = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            if (fingerprint != modelFingerprint) throw new InvalidDataException($"{path}: written under model {fingerprint:x8}, not under this model {modelFingerprint:x8}.");
            RowCount = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
            _recordBytes = RerankCodeFile.RecordBytes(dimension);
            if (length != RerankCodeFile.HeaderBytes + RowCount * _recordBytes) throw new InvalidDataException($"{path}: {length} bytes do not hold the {RowCount} rows its header names.");
        }
        catch
        {
            Dispose();
            throw;
        }

        Dimension = dimension;
        _rows = start + RerankCodeFile.HeaderBytes;
    }

    public int Dimension { get; }

    public long RowCount { get; }

    public long RecordBytes => _recordBytes;

    /// <summary>Inner product of the prepared (int8-quantised) query with row <paramref name="row"/>'s code.</summary>
    public float Score(long row, PreparedQuery query)
    {
        if ((ulong)row >= (ulong)RowCount) throw new ArgumentOutOfRangeException(nameof(row), row, $"The file holds {RowCount} rows.");
        byte* record = _rows + row * _recordBytes;
        int dot = Int8VectorCodec.Dot(ref Unsafe.AsRef<sbyte>(record), ref MemoryMarshal.GetArrayDataReference(query.Int8Levels), Dimension);
        return dot * query.Int8Scale * Unsafe.ReadUnaligned<float>(record + Dimension);
    }

    /// <summary>
    /// Touches every page once, so the file sits in the page cache and in this process's page table: a
    /// benchmark then measures search, not first-touch faults. Returns a checksum so the reads are not elided.
    /// </summary>
    public long WarmUp()
    {
        const int PageBytes = 4096;
        long sum = 0;
        long length = RerankCodeFile.HeaderBytes + RowCount * _recordBytes;
        byte* start = _rows - RerankCodeFile.HeaderBytes;
        for (long offset = 0; offset < length; offset += PageBytes) sum += start[offset];
        return sum;
    }

    /// <summary>Asks the CPU to start loading a row's record (its cache lines), so scoring it later does not wait on memory.</summary>
    public void Prefetch(long row)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || (ulong)row >= (ulong)RowCount) return;
        byte* record = _rows + row * _recordBytes;
        for (long offset = 0; offset < _recordBytes; offset += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(record + offset);
    }

    /// <summary>Row <paramref name="row"/>'s code and scale (for moving rows, and tests).</summary>
    public (sbyte[] Code, float Scale) Read(long row)
    {
        if ((ulong)row >= (ulong)RowCount) throw new ArgumentOutOfRangeException(nameof(row), row, $"The file holds {RowCount} rows.");
        byte* record = _rows + row * _recordBytes;
        return (new ReadOnlySpan<sbyte>(record, Dimension).ToArray(), Unsafe.ReadUnaligned<float>(record + Dimension));
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
