using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Append-only storage of vector codes: codes back to back in large chunks (no per-vector
/// objects), per-vector scales in parallel chunks when the codec has them. The last chunk
/// grows by doubling, so small stores stay small; full chunks never move.
/// </summary>
internal sealed class CodeStore
{
    private const int FirstChunkRows = 16;

    // Chunks are capped near 64 MiB: large enough for long sequential scans, small enough to allocate easily.
    private const int TargetChunkBytes = 64 << 20;

    private readonly List<byte[]> _codeChunks = [];
    private readonly List<float[]> _scaleChunks = [];
    private readonly int _chunkShift;
    private readonly int _chunkMask;

    public CodeStore(IVectorCodec codec, int initialCapacity = 0)
    {
        Codec = codec;
        CodeBytes = codec.CodeBytes;
        int rowsPerChunk = 1 << Math.Max(10, 31 - int.LeadingZeroCount(Math.Max(1, TargetChunkBytes / CodeBytes)));
        _chunkShift = int.Log2(rowsPerChunk);
        _chunkMask = rowsPerChunk - 1;
        if (initialCapacity > 0)
        {
            AddChunk(Math.Min(initialCapacity, rowsPerChunk));
        }
    }

    public IVectorCodec Codec { get; }

    public int CodeBytes { get; }

    public int Count { get; private set; }

    public int RowsPerChunk => _chunkMask + 1;

    public int ChunkCount => _codeChunks.Count;

    public long MemoryBytes
    {
        get
        {
            long bytes = 0;
            foreach (byte[] chunk in _codeChunks) bytes += chunk.LongLength;
            foreach (float[] chunk in _scaleChunks) bytes += chunk.LongLength * sizeof(float);
            return bytes;
        }
    }

    /// <summary>Encodes and appends one vector; returns its position.</summary>
    public int Add(ReadOnlySpan<float> vector)
    {
        int position = Reserve();
        float scale = Codec.Encode(vector, CodeSpan(position));
        SetScale(position, scale);
        return position;
    }

    /// <summary>Appends an existing code unchanged (moving codes between stores never re-quantises).</summary>
    public int AddCode(ReadOnlySpan<byte> code, float scale)
    {
        int position = Reserve();
        code.CopyTo(CodeSpan(position));
        SetScale(position, scale);
        return position;
    }

    public ReadOnlySpan<byte> Code(int position) => CodeSpan(position);

    public float Scale(int position) =>
        Codec.UsesScale ? _scaleChunks[position >> _chunkShift][position & _chunkMask] : 1f;

    public void Decode(int position, Span<float> vector) => Codec.Decode(Code(position), Scale(position), vector);

    /// <summary>Scores the query against every stored code, writing scores[position].</summary>
    public void ScoreAll(PreparedQuery query, Span<float> scores)
    {
        for (int c = 0; c < _codeChunks.Count; c++)
        {
            int first = c << _chunkShift;
            int rows = Math.Min(RowsPerChunk, Count - first);
            if (rows <= 0) break;
            ReadOnlySpan<float> scales = Codec.UsesScale ? _scaleChunks[c] : default;
            Codec.Score(query, _codeChunks[c].AsSpan(0, rows * CodeBytes), scales, scores.Slice(first, rows));
        }
    }

    /// <summary>Drops spare capacity of the last chunk.</summary>
    public void TrimExcess()
    {
        if (_codeChunks.Count == 0) return;
        int last = _codeChunks.Count - 1;
        int rows = Count - (last << _chunkShift);
        if (rows * CodeBytes == _codeChunks[last].Length) return;
        ResizeChunk(last, rows);
    }

    private Span<byte> CodeSpan(int position) =>
        _codeChunks[position >> _chunkShift].AsSpan((position & _chunkMask) * CodeBytes, CodeBytes);

    private void SetScale(int position, float scale)
    {
        if (Codec.UsesScale) _scaleChunks[position >> _chunkShift][position & _chunkMask] = scale;
    }

    private int Reserve()
    {
        int position = Count;
        int chunk = position >> _chunkShift;
        int offset = position & _chunkMask;
        if (chunk == _codeChunks.Count)
        {
            AddChunk(chunk == 0 ? FirstChunkRows : RowsPerChunk);
        }
        else if (offset * CodeBytes == _codeChunks[chunk].Length)
        {
            ResizeChunk(chunk, Math.Min(RowsPerChunk, offset * 2));
        }

        Count = position + 1;
        return position;
    }

    private void AddChunk(int rows)
    {
        _codeChunks.Add(new byte[(long)rows * CodeBytes]);
        if (Codec.UsesScale) _scaleChunks.Add(new float[rows]);
    }

    private void ResizeChunk(int chunk, int rows)
    {
        byte[] codes = _codeChunks[chunk];
        Array.Resize(ref codes, rows * CodeBytes);
        _codeChunks[chunk] = codes;
        if (Codec.UsesScale)
        {
            float[] scales = _scaleChunks[chunk];
            Array.Resize(ref scales, rows);
            _scaleChunks[chunk] = scales;
        }
    }
}
