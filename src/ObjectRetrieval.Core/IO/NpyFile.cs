using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace ObjectRetrieval.Core.IO;

/// <summary>A float32 array read from or written to the NumPy .npy format (version 1.0–3.0, C order, little-endian).</summary>
public sealed record NpyArray(float[] Data, int[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>Reads and writes NumPy .npy files of float32 or float16 (read only), C order, little-endian.</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray Read(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            return Read(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static NpyArray Read(Stream stream)
    {
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        if (!prefix[..6].SequenceEqual(Magic)) throw new InvalidDataException("not a NumPy .npy file (bad magic).");
        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> len = stackalloc byte[2];
            stream.ReadExactly(len);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            stream.ReadExactly(len);
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(len));
        }
        else
        {
            throw new InvalidDataException($"unsupported .npy version {major}.");
        }

        if (headerLength > 1 << 20) throw new InvalidDataException($"header of {headerLength} bytes is implausible.");
        byte[] headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = Encoding.Latin1.GetString(headerBytes);

        string descr = DescrPattern().Match(header) is { Success: true } d ? d.Groups[1].Value
            : throw new InvalidDataException("header has no 'descr'.");
        if (FortranPattern().Match(header) is { Success: true } f && f.Groups[1].Value == "True")
        {
            throw new InvalidDataException("Fortran-order arrays are not supported; save with np.ascontiguousarray.");
        }

        Match shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success) throw new InvalidDataException("header has no 'shape'.");
        int[] shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, out int v) && v >= 0 ? v : throw new InvalidDataException($"bad dimension '{s}' in shape."))
            .ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count > Array.MaxLength) throw new InvalidDataException($"array of {count} elements is too large for one buffer.");

        float[] data = new float[count];
        switch (descr)
        {
            case "<f4":
                stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian host.");
                break;
            case "<f2":
                byte[] halves = new byte[count * 2];
                stream.ReadExactly(halves);
                for (long i = 0; i < count; i++)
                {
                    data[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(halves.AsSpan((int)(i * 2), 2));
                }

                break;
            default:
                throw new InvalidDataException($"dtype '{descr}' is not supported; use float32 ('<f4') or float16 ('<f2').");
        }

        return new NpyArray(data, shape);
    }

    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape)
    {
        using var stream = File.Create(path);
        Write(stream, data, shape);
    }

    public static void Write(Stream stream, ReadOnlySpan<float> data, params int[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length) throw new ArgumentException($"Shape ({string.Join(", ", shape)}) needs {count} values, got {data.Length}.");
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}";
        // Header padded with spaces so that the data starts on a 64-byte boundary, ending in '\n'.
        int unpadded = 10 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        stream.Write(len);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
