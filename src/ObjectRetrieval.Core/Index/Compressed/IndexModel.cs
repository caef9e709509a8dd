using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index.Compressed;

/// <summary>
/// The trained, versioned part of a compressed index, shared by every shard of the index: IVF
/// centroids and the product quantiser of residuals to them (no rotation: a random rotation did not
/// pay on these data, see the README). Trained once from a sample (<see cref="Train"/>), saved with the
/// index (<see cref="Save"/> / <see cref="Load"/>), identified by <see cref="Fingerprint"/> (a CRC of
/// its content) so a shard can refuse codes made by another model. Encoding is deterministic: the same
/// model gives the same codes on every shard, so scores compare across shards.
/// </summary>
public sealed class IndexModel
{
    /// <summary>The file format this build writes and reads.</summary>
    public const int FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "ORIXMODL"u8;

    private readonly Int8VectorCodec _rerankCodec;

    private IndexModel(CoarseQuantizer lists, ProductQuantizer quantizer)
    {
        Lists = lists;
        Quantizer = quantizer;
        _rerankCodec = new Int8VectorCodec(lists.Dimension);
        Fingerprint = ComputeFingerprint();
    }

    public int Dimension => Lists.Dimension;

    public int ListCount => Lists.ListCount;

    public ProductQuantizer Quantizer { get; }

    /// <summary>Stored bytes per vector in the hot path: the product code (M/2 bytes at 4 bits, M at 8).</summary>
    public int ProductCodeBytes => Quantizer.Bits == 4 ? Quantizer.SubQuantizers / 2 : Quantizer.SubQuantizers;

    /// <summary>CRC-32 of the model's content: equal fingerprints mean interchangeable codes.</summary>
    public uint Fingerprint { get; }

    /// <summary>Resident bytes of the model (centroids and their int8 probe copies, codebooks).</summary>
    public long MemoryBytes => Lists.MemoryBytes + Quantizer.MemoryBytes;

    internal CoarseQuantizer Lists { get; }

    internal Int8VectorCodec RerankCodec => _rerankCodec;

    /// <summary>
    /// Trains on <paramref name="count"/> unit vectors (row-major): IVF k-means on a subsample of them, the
    /// options' refinement passes over all of them, then the product quantiser on residuals of a subsample.
    /// Deterministic for the options' seed.
    /// </summary>
    public static IndexModel Train(float[] vectors, int count, int dimension, IndexModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(dimension);
        if (vectors.Length < (long)count * dimension) throw new ArgumentException("The vectors are shorter than their count and dimension say.", nameof(vectors));
        if (count < options.ListCount) throw new ArgumentException($"Training {options.ListCount} lists needs at least as many vectors; {count} given.", nameof(count));
        int ivfCount = Math.Min(count, options.IvfTrainingVectors);
        float[] ivfSample = Subsample(vectors, count, dimension, ivfCount, options.Seed + 3);
        CoarseQuantizer lists = CoarseQuantizer.Train(ivfSample, ivfCount, dimension, options.ListCount, options.IvfIterations, options.Seed);
        return WithQuantizer(Refined(lists, vectors, count, options.RefinementPasses), vectors, count, options);
    }

    /// <summary>
    /// A model whose IVF centroids take <paramref name="passes"/> k-means passes over all given vectors, starting
    /// from this model's, and whose product quantiser is retrained on the new residuals.
    /// </summary>
    public IndexModel Refine(float[] vectors, int count, int passes, IndexModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { ListCount = ListCount, SubQuantizers = Quantizer.SubQuantizers, Bits = Quantizer.Bits };
        options.Validate(Dimension);
        return WithQuantizer(Refined(Lists, vectors, count, passes), vectors, count, options);
    }

    private static CoarseQuantizer Refined(CoarseQuantizer lists, float[] vectors, int count, int passes)
    {
        int dim = lists.Dimension;
        int[] all = Enumerable.Range(0, count).ToArray();
        int[] assignment = new int[count];
        for (int pass = 0; pass < passes; pass++)
        {
            float[] centroids = lists.AllCentroids.ToArray();
            CoarseKMeans.Assign(vectors, dim, all, centroids, lists.ListCount, assignment);
            // Summed in row order: the result does not depend on the thread count.
            float[] sums = new float[centroids.Length];
            for (int i = 0; i < count; i++)
            {
                Span<float> sum = sums.AsSpan(assignment[i] * dim, dim);
                TensorPrimitives.Add(sum, vectors.AsSpan(i * dim, dim), sum);
            }

            for (int l = 0; l < lists.ListCount; l++)
            {
                Span<float> sum = sums.AsSpan(l * dim, dim);
                float norm = TensorPrimitives.Norm(sum);
                if (norm < 1e-12f) lists.Centroid(l).CopyTo(sum);
                else TensorPrimitives.Multiply(sum, 1f / norm, sum);
            }

            lists = lists.WithCentroids(sums);
        }

        return lists;
    }

    private static IndexModel WithQuantizer(CoarseQuantizer lists, float[] vectors, int count, IndexModelOptions options)
    {
        int dimension = lists.Dimension;
        int pqCount = Math.Min(count, options.PqTrainingVectors);
        int[] chosen = CoarseKMeans.SampleDistinct(count, pqCount, new Random(options.Seed + 1));
        float[] residuals = new float[(long)pqCount * dimension];
        Parallel.For(0, pqCount, i =>
        {
            ReadOnlySpan<float> vector = vectors.AsSpan(chosen[i] * dimension, dimension);
            TensorPrimitives.Subtract(vector, lists.Centroid(lists.Nearest(vector)), residuals.AsSpan(i * dimension, dimension));
        });
        ProductQuantizer quantizer = ProductQuantizer.Train(residuals, pqCount, dimension, options.SubQuantizers, options.Bits, options.PqIterations, options.Seed + 2);
        return new IndexModel(lists, quantizer);
    }

    private static float[] Subsample(float[] vectors, int count, int dimension, int take, int seed)
    {
        if (take == count) return vectors;
        int[] chosen = CoarseKMeans.SampleDistinct(count, take, new Random(seed));
        float[] sample = new float[(long)take * dimension];
        for (int i = 0; i < take; i++) vectors.AsSpan(chosen[i] * dimension, dimension).CopyTo(sample.AsSpan(i * dimension, dimension));
        return sample;
    }

    /// <summary>Encodes <paramref name="count"/> row-major vectors: list, product code of the residual, int8 re-rank code.</summary>
    public EncodedVectors Encode(ReadOnlySpan<float> vectors, int count)
    {
        int dim = Dimension;
        if (vectors.Length != (long)count * dim) throw new ArgumentException($"{vectors.Length} values given for {count} vectors of dimension {dim}.", nameof(vectors));
        var encoded = new EncodedVectors(count, Quantizer.SubQuantizers, dim);
        Span<float> residual = dim <= 4096 ? stackalloc float[dim] : new float[dim];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> vector = vectors.Slice(i * dim, dim);
            int list = Lists.Nearest(vector);
            encoded.Lists[i] = list;
            TensorPrimitives.Subtract(vector, Lists.Centroid(list), residual);
            Quantizer.Encode(residual, encoded.ProductCodes.AsSpan(i * Quantizer.SubQuantizers, Quantizer.SubQuantizers));
            encoded.RerankScales[i] = _rerankCodec.Encode(vector, MemoryMarshal.AsBytes(encoded.RerankCodes.AsSpan(i * dim, dim)));
        }

        return encoded;
    }

    /// <summary>Encodes many vectors on all cores, in blocks; the result equals one <see cref="Encode"/> call per vector.</summary>
    public EncodedVectors EncodeParallel(ReadOnlyMemory<float> vectors, int count)
    {
        const int PerTask = 2048;
        int dim = Dimension, m = Quantizer.SubQuantizers;
        var all = new EncodedVectors(count, m, dim);
        Parallel.For(0, (count + PerTask - 1) / PerTask, t =>
        {
            int first = t * PerTask, n = Math.Min(PerTask, count - first);
            EncodedVectors part = Encode(vectors.Span.Slice(first * dim, n * dim), n);
            part.Lists.CopyTo(all.Lists, first);
            part.ProductCodes.CopyTo(all.ProductCodes, first * m);
            part.RerankCodes.CopyTo(all.RerankCodes, first * dim);
            part.RerankScales.CopyTo(all.RerankScales, first);
        });
        return all;
    }

    /// <summary>Writes the model: magic, format version, shape, centroids, codebooks, CRC-32 of all that precedes it.</summary>
    public void Save(Stream stream)
    {
        byte[] body = Body();
        stream.Write(body);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32.HashToUInt32(body));
        stream.Write(crc);
    }

    public void Save(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        Save(stream);
    }

    public static IndexModel Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        return Load(stream);
    }

    /// <summary>Reads a model written by <see cref="Save(Stream)"/>; refuses other formats, other versions and corrupt bytes with a specific message.</summary>
    public static IndexModel Load(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] all = buffer.ToArray();
        const int HeaderBytes = 8 + 5 * 4;
        if (all.Length < HeaderBytes + 4 || !all.AsSpan(0, 8).SequenceEqual(Magic)) throw new InvalidDataException("Not an index model: the magic bytes are missing.");
        int version = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(8));
        if (version != FormatVersion) throw new InvalidDataException($"Index model format version {version} is not supported; this build reads version {FormatVersion}.");
        ReadOnlySpan<byte> body = all.AsSpan(0, all.Length - 4);
        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(all.Length - 4))) throw new InvalidDataException("Index model checksum mismatch: the file is corrupt.");
        int dim = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(12));
        int lists = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(16));
        int m = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(20));
        int bits = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(24));
        if (dim <= 0 || lists <= 0 || m <= 0 || bits is not (4 or 8) || dim % m != 0) throw new InvalidDataException($"Index model shape is invalid (dimension {dim}, lists {lists}, M {m}, bits {bits}).");
        long expected = HeaderBytes + ((long)lists * dim + ((long)dim << bits)) * sizeof(float);
        if (body.Length != expected) throw new InvalidDataException($"Index model holds {body.Length} bytes; its shape needs {expected}.");
        float[] centroids = MemoryMarshal.Cast<byte, float>(body.Slice(HeaderBytes, lists * dim * sizeof(float))).ToArray();
        float[] codebooks = MemoryMarshal.Cast<byte, float>(body[(HeaderBytes + lists * dim * sizeof(float))..]).ToArray();
        return new IndexModel(CoarseQuantizer.FromCentroids(dim, centroids), new ProductQuantizer(dim, m, bits, codebooks));
    }

    private byte[] Body()
    {
        using var buffer = new MemoryStream();
        buffer.Write(Magic);
        Span<byte> number = stackalloc byte[4];
        foreach (int value in (ReadOnlySpan<int>)[FormatVersion, Dimension, ListCount, Quantizer.SubQuantizers, Quantizer.Bits])
        {
            BinaryPrimitives.WriteInt32LittleEndian(number, value);
            buffer.Write(number);
        }

        buffer.Write(MemoryMarshal.AsBytes(Lists.AllCentroids));
        buffer.Write(MemoryMarshal.AsBytes(Quantizer.Codebooks));
        return buffer.ToArray();
    }

    private uint ComputeFingerprint() => Crc32.HashToUInt32(Body());
}
