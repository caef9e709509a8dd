namespace ObjectRetrieval.Core.Index.Compressed;

/// <summary>
/// The codes of consecutive vectors (one image's, or a batch's) under one <see cref="IndexModel"/>: per
/// vector its IVF list, its product code (one byte per sub-quantiser, unpacked) and its int8 re-rank
/// code with scale. This is what a segment persists, so a shard that activates adds rows from it
/// without re-encoding or retraining (<see cref="CompressedIndexWriter.Add"/>).
/// </summary>
public sealed class EncodedVectors
{
    public EncodedVectors(int count, int subQuantizers, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Count = count;
        SubQuantizers = subQuantizers;
        Dimension = dimension;
        Lists = new int[count];
        ProductCodes = new byte[count * subQuantizers];
        RerankCodes = new sbyte[count * dimension];
        RerankScales = new float[count];
    }

    public int Count { get; }

    public int SubQuantizers { get; }

    public int Dimension { get; }

    public int[] Lists { get; }

    public byte[] ProductCodes { get; }

    public sbyte[] RerankCodes { get; }

    public float[] RerankScales { get; }

    public ReadOnlySpan<byte> ProductCode(int vector) => ProductCodes.AsSpan(vector * SubQuantizers, SubQuantizers);

    /// <summary>A copy of vectors [first, first + count): one image's rows out of a batch.</summary>
    public EncodedVectors Slice(int first, int count)
    {
        var part = new EncodedVectors(count, SubQuantizers, Dimension);
        Lists.AsSpan(first, count).CopyTo(part.Lists);
        ProductCodes.AsSpan(first * SubQuantizers, count * SubQuantizers).CopyTo(part.ProductCodes);
        RerankCodes.AsSpan(first * Dimension, count * Dimension).CopyTo(part.RerankCodes);
        RerankScales.AsSpan(first, count).CopyTo(part.RerankScales);
        return part;
    }

    public ReadOnlySpan<sbyte> RerankCode(int vector) => RerankCodes.AsSpan(vector * Dimension, Dimension);
}
