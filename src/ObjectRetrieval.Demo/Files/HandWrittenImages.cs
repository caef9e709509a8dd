using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace ObjectRetrieval.Demo.Files;

/// <summary>
/// Byte-level writers for image variants that common encoders do not produce: 16-bit PNG, PNG headers
/// that lie about their size, animated GIF, Adobe CMYK JPEG, BMP, and EXIF orientation tags.
/// </summary>
internal static class HandWrittenImages
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>An RGB PNG with 16 bits per channel, every pixel (r, g, b).</summary>
    public static byte[] Png16(int width, int height, ushort r, ushort g, ushort b)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            for (int x = 0; x < width; x++)
            {
                foreach (ushort value in new[] { r, g, b })
                {
                    raw.WriteByte((byte)(value >> 8));
                    raw.WriteByte((byte)value);
                }
            }
        }

        return Png(width, height, bitDepth: 16, colourType: 2, Deflate(raw.ToArray()));
    }

    /// <summary>A PNG whose header declares width × height RGB pixels but whose data holds only a few rows: a decompression bomb's shape.</summary>
    public static byte[] PngClaimingSize(int width, int height)
    {
        var rows = new byte[(width * 3 + 1) * 4];
        return Png(width, height, bitDepth: 8, colourType: 2, Deflate(rows));
    }

    /// <summary>A valid 8-bit PNG header followed by image data that is not a zlib stream.</summary>
    public static byte[] PngWithGarbageData(int width, int height)
    {
        var garbage = new byte[256];
        new Random(7).NextBytes(garbage);
        garbage[0] = 0x12; // not a valid zlib header byte pair
        garbage[1] = 0x34;
        return Png(width, height, bitDepth: 8, colourType: 2, garbage);
    }

    private static byte[] Png(int width, int height, byte bitDepth, byte colourType, byte[] compressed)
    {
        var output = new MemoryStream();
        output.Write(PngSignature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = bitDepth;
        header[9] = colourType;
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "IDAT", compressed);
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        output.Write(typeAndData);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typeAndData));
        output.Write(crc);
    }

    private static byte[] Deflate(byte[] data)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(data);
        return output.ToArray();
    }

    /// <summary>
    /// An animated (looping) GIF of solid-colour frames. The LZW stream sends a clear code before every
    /// two pixels, so all codes stay 3 bits wide and no string table is needed.
    /// </summary>
    public static byte[] AnimatedGif(int width, int height, params (byte R, byte G, byte B)[] frameColours)
    {
        var output = new MemoryStream();
        output.Write("GIF89a"u8);
        WriteUInt16(output, width);
        WriteUInt16(output, height);
        output.WriteByte(0xF1); // global colour table, 8-bit colour resolution, 4 entries
        output.WriteByte(0);
        output.WriteByte(0);
        var palette = new (byte R, byte G, byte B)[4];
        for (int i = 0; i < frameColours.Length && i < 4; i++) palette[i] = frameColours[i];
        foreach ((byte r, byte g, byte b) in palette)
        {
            output.WriteByte(r);
            output.WriteByte(g);
            output.WriteByte(b);
        }

        output.Write([0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8, 0x03, 0x01, 0x00, 0x00, 0x00]); // loop forever

        for (int frame = 0; frame < frameColours.Length; frame++)
        {
            output.Write([0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00]); // 100 ms per frame
            output.WriteByte(0x2C);
            WriteUInt16(output, 0);
            WriteUInt16(output, 0);
            WriteUInt16(output, width);
            WriteUInt16(output, height);
            output.WriteByte(0);
            output.WriteByte(2); // LZW minimum code size: clear = 4, end = 5, codes of 3 bits
            byte[] lzw = SolidLzw(width * height, (byte)frame);
            for (int offset = 0; offset < lzw.Length; offset += 255)
            {
                int length = Math.Min(255, lzw.Length - offset);
                output.WriteByte((byte)length);
                output.Write(lzw, offset, length);
            }

            output.WriteByte(0);
        }

        output.WriteByte(0x3B);
        return output.ToArray();
    }

    private static byte[] SolidLzw(int pixels, byte index)
    {
        var bits = new BitWriterLsb();
        for (int i = 0; i < pixels; i += 2)
        {
            bits.Write(4, 3);
            bits.Write(index, 3);
            if (i + 1 < pixels) bits.Write(index, 3);
        }

        bits.Write(5, 3);
        return bits.ToArray();
    }

    /// <summary>
    /// A baseline JPEG with four components (Adobe CMYK, stored inverted as Photoshop does), every pixel
    /// the given stored values. DC-only blocks with a unit quantiser: a flat colour needs nothing else.
    /// </summary>
    public static byte[] AdobeCmykJpeg(int width, int height, byte c, byte m, byte y, byte k)
    {
        var output = new MemoryStream();
        output.Write([0xFF, 0xD8]);
        output.Write([0xFF, 0xEE, 0x00, 0x0E, .. "Adobe"u8, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]); // transform 0: CMYK as stored
        output.Write([0xFF, 0xDB, 0x00, 0x43, 0x00]);
        for (int i = 0; i < 64; i++) output.WriteByte(1);
        output.Write([0xFF, 0xC0, 0x00, 0x14, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x04]);
        for (byte component = 1; component <= 4; component++) output.Write([component, 0x11, 0x00]);

        // DC table: categories 0–11, all 4-bit codes (0000, 0001, …). AC table: only end-of-block, code "0".
        output.Write([0xFF, 0xC4, 0x00, 0x1F, 0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for (byte symbol = 0; symbol < 12; symbol++) output.WriteByte(symbol);
        output.Write([0xFF, 0xC4, 0x00, 0x14, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);

        output.Write([0xFF, 0xDA, 0x00, 0x0E, 0x04, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x3F, 0x00]);
        var bits = new BitWriterMsb();
        byte[] values = [c, m, y, k];
        int blocks = ((width + 7) / 8) * ((height + 7) / 8);
        for (int block = 0; block < blocks; block++)
        {
            foreach (byte value in values)
            {
                int dc = 8 * (value - 128); // DC of a flat block with a unit quantiser
                int difference = block == 0 ? dc : 0;
                int category = difference == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(difference));
                bits.Write(category, 4);
                if (category > 0) bits.Write(difference > 0 ? difference : difference + (1 << category) - 1, category);
                bits.Write(0, 1); // end of block
            }
        }

        output.Write(bits.ToStuffedArray());
        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    /// <summary>A 24-bit uncompressed BMP; <paramref name="pixel"/> gives (r, g, b) for (x, y).</summary>
    public static byte[] Bmp(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        int rowBytes = (width * 3 + 3) & ~3;
        int imageBytes = rowBytes * height;
        var data = new byte[54 + imageBytes];
        data[0] = (byte)'B';
        data[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(2), data.Length);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(22), height); // positive: rows stored bottom-up
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(34), imageBytes);
        for (int y = 0; y < height; y++)
        {
            int row = 54 + (height - 1 - y) * rowBytes;
            for (int x = 0; x < width; x++)
            {
                (byte r, byte g, byte b) = pixel(x, y);
                data[row + x * 3] = b;
                data[row + x * 3 + 1] = g;
                data[row + x * 3 + 2] = r;
            }
        }

        return data;
    }

    /// <summary>A BMP whose header declares an impossible bit depth.</summary>
    public static byte[] BmpWithBitDepth(int width, int height, short bitsPerPixel)
    {
        byte[] data = Bmp(width, height, (_, _) => (0, 0, 0));
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(28), bitsPerPixel);
        return data;
    }

    /// <summary>Inserts an EXIF segment with the given orientation tag right after a JPEG's start marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] segment =
        [
            0xFF, 0xE1, 0x00, 0x22, .. "Exif"u8, 0x00, 0x00,
            .. "MM"u8, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD0 at offset 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    private static void WriteUInt16(Stream output, int value)
    {
        output.WriteByte((byte)value);
        output.WriteByte((byte)(value >> 8));
    }

    /// <summary>Packs codes least-significant bit first (GIF).</summary>
    private sealed class BitWriterLsb
    {
        private readonly List<byte> _bytes = [];
        private int _buffer;
        private int _count;

        public void Write(int value, int bitCount)
        {
            _buffer |= value << _count;
            _count += bitCount;
            while (_count >= 8)
            {
                _bytes.Add((byte)_buffer);
                _buffer >>= 8;
                _count -= 8;
            }
        }

        public byte[] ToArray()
        {
            if (_count > 0) _bytes.Add((byte)_buffer);
            return [.. _bytes];
        }
    }

    /// <summary>Packs codes most-significant bit first with JPEG byte stuffing.</summary>
    private sealed class BitWriterMsb
    {
        private readonly List<byte> _bytes = [];
        private int _buffer;
        private int _count;

        public void Write(int value, int bitCount)
        {
            for (int bit = bitCount - 1; bit >= 0; bit--)
            {
                _buffer = (_buffer << 1) | ((value >> bit) & 1);
                if (++_count == 8) Flush();
            }
        }

        public byte[] ToStuffedArray()
        {
            while (_count != 0) Write(1, 1); // pad the last byte with ones
            return [.. _bytes];
        }

        private void Flush()
        {
            _bytes.Add((byte)_buffer);
            if (_buffer == 0xFF) _bytes.Add(0x00);
            _buffer = 0;
            _count = 0;
        }
    }
}
