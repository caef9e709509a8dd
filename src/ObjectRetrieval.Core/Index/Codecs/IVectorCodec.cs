namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>
/// Turns float vectors into fixed-size codes and scores a query against many codes at once.
/// Codes of consecutive vectors lie back to back (<see cref="CodeBytes"/> each); codecs that
/// need a per-vector scale keep it in a parallel float array, so codes stay densely packed.
/// </summary>
public interface IVectorCodec
{
    /// <summary>The kind an index definition names; null for codecs built from trained state (product quantisation), which <see cref="VectorCodecs.Create"/> cannot make.</summary>
    VectorCodecKind? Kind { get; }

    int Dimension { get; }

    /// <summary>Bytes of one vector's code, not counting its scale.</summary>
    int CodeBytes { get; }

    /// <summary>Whether codes come with a per-vector scale (the scales span is ignored otherwise).</summary>
    bool UsesScale { get; }

    /// <summary>Encodes one vector; returns its scale (1 for codecs without one).</summary>
    float Encode(ReadOnlySpan<float> vector, Span<byte> code);

    /// <summary>Reconstructs the (approximate) vector of one code.</summary>
    void Decode(ReadOnlySpan<byte> code, float scale, Span<float> vector);

    /// <summary>Fills the parts of <paramref name="prepared"/> this codec scores with.</summary>
    void PrepareQuery(ReadOnlySpan<float> query, PreparedQuery prepared);

    /// <summary>scores[i] = inner product of the query with code i, for i &lt; scores.Length.</summary>
    void Score(PreparedQuery query, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, Span<float> scores);
}

/// <summary>
/// A query in the forms codecs score with: the float values and, for int8 codes, the query
/// quantised the same way (kept as int16 so the SIMD kernels can multiply-add without widening it per code).
/// Reused across searches on one thread to keep the search path free of allocations.
/// </summary>
public sealed class PreparedQuery
{
    public PreparedQuery(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Values = new float[dimension];
        Int8Levels = new short[dimension];
    }

    public int Dimension => Values.Length;

    public float[] Values { get; }

    /// <summary>The query quantised to [-127, 127]; the value i is about Values[i] / <see cref="Int8Scale"/>.</summary>
    public short[] Int8Levels { get; }

    public float Int8Scale { get; set; }

    private float[] _productTable = [];

    /// <summary>The query's table of sub-space inner products for product-quantised codes, grown on first use.</summary>
    public Span<float> ProductTable(int length)
    {
        if (_productTable.Length < length) _productTable = new float[length];
        return _productTable.AsSpan(0, length);
    }
}

/// <summary>Creates the codec for a <see cref="VectorCodecKind"/>.</summary>
public static class VectorCodecs
{
    public static IVectorCodec Create(VectorCodecKind kind, int dimension) => kind switch
    {
        VectorCodecKind.Int8 => new Int8VectorCodec(dimension),
        VectorCodecKind.Float16 => new Float16VectorCodec(dimension),
        VectorCodecKind.Float32 => new Float32VectorCodec(dimension),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown codec."),
    };

    /// <summary>Parses the command-line spelling: int8, fp16 (or f16), f32 (or fp32).</summary>
    public static VectorCodecKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "int8" or "i8" or "sq8" => VectorCodecKind.Int8,
        "fp16" or "f16" or "float16" or "half" => VectorCodecKind.Float16,
        "f32" or "fp32" or "float32" or "float" => VectorCodecKind.Float32,
        _ => throw new ArgumentException($"Unknown codec '{text}'; use int8, fp16 or f32."),
    };
}
