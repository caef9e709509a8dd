using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Synthetic unit vectors with cluster structure, for benchmarks and tests: random unit
/// centres; each vector = cosine · centre + √(1 − cosine²) · (random unit direction
/// orthogonal to the centre), so its cosine to its centre is exactly <see cref="Cosine"/>.
/// Vectors come in fixed blocks, each from its own seeded generator: the output depends on
/// the seed and the stream only, never on the thread count.
/// </summary>
public sealed class ClusteredVectorGenerator
{
    public const int VectorsPerBlock = 1024;

    /// <summary>Stream of base vectors; queries use <see cref="QueryStream"/> so they are new points near the same centres.</summary>
    public const int BaseStream = 0;

    public const int QueryStream = 1;

    private readonly float[] _centres;

    public ClusteredVectorGenerator(int dimension, int centreCount, float cosine, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(centreCount);
        if (!(cosine is >= 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(cosine), cosine, "Cosine to the centre must be in [0, 1].");
        Dimension = dimension;
        CentreCount = centreCount;
        Cosine = cosine;
        Seed = seed;
        _centres = new float[(long)centreCount * dimension];
        var random = new Random(MixSeed(seed, -1, 0));
        for (int c = 0; c < centreCount; c++)
        {
            Span<float> centre = _centres.AsSpan(c * dimension, dimension);
            FillGaussian(random, centre);
            TensorPrimitives.Multiply(centre, 1f / TensorPrimitives.Norm(centre), centre);
        }
    }

    public int Dimension { get; }

    public int CentreCount { get; }

    public float Cosine { get; }

    public int Seed { get; }

    public ReadOnlySpan<float> Centre(int index) => _centres.AsSpan(index * Dimension, Dimension);

    /// <summary>Receives consecutive batches of row-major vectors, in order.</summary>
    public delegate void BatchSink(ReadOnlySpan<float> vectors, int count);

    /// <summary>Generates <paramref name="count"/> vectors of a stream into <paramref name="sink"/>, in batches built on all cores.</summary>
    public void Generate(int count, int stream, BatchSink sink, int blocksPerBatch = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        float[] batch = new float[(long)blocksPerBatch * VectorsPerBlock * Dimension];
        int blocks = (count + VectorsPerBlock - 1) / VectorsPerBlock;
        for (int firstBlock = 0; firstBlock < blocks; firstBlock += blocksPerBatch)
        {
            int batchBlocks = Math.Min(blocksPerBatch, blocks - firstBlock);
            Parallel.For(0, batchBlocks, b =>
            {
                int block = firstBlock + b;
                int rows = Math.Min(VectorsPerBlock, count - block * VectorsPerBlock);
                FillBlock(stream, block, batch.AsSpan(b * VectorsPerBlock * Dimension, rows * Dimension), rows);
            });
            int batchRows = Math.Min(batchBlocks * VectorsPerBlock, count - firstBlock * VectorsPerBlock);
            sink(batch.AsSpan(0, batchRows * Dimension), batchRows);
        }
    }

    /// <summary>Generates <paramref name="count"/> vectors of a stream into one row-major array.</summary>
    public float[] Generate(int count, int stream)
    {
        float[] all = new float[(long)count * Dimension];
        int written = 0;
        Generate(count, stream, (vectors, n) =>
        {
            vectors.CopyTo(all.AsSpan(written * Dimension));
            written += n;
        });
        return all;
    }

    private void FillBlock(int stream, int block, Span<float> destination, int rows)
    {
        var random = new Random(MixSeed(Seed, stream, block));
        float along = Cosine;
        float across = MathF.Sqrt(1f - Cosine * Cosine);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> centre = Centre(random.Next(CentreCount));
            Span<float> vector = destination.Slice(r * Dimension, Dimension);
            FillGaussian(random, vector);
            // Remove the component along the centre, so the noise is exactly orthogonal to it.
            TensorPrimitives.MultiplyAdd(centre, -TensorPrimitives.Dot(vector, centre), vector, vector);
            TensorPrimitives.Multiply(vector, across / TensorPrimitives.Norm(vector), vector);
            TensorPrimitives.MultiplyAdd(centre, along, vector, vector);
            TensorPrimitives.Multiply(vector, 1f / TensorPrimitives.Norm(vector), vector);
        }
    }

    internal static void FillGaussian(Random random, Span<float> values)
    {
        // Box–Muller: two normal deviates per pair of uniforms.
        for (int i = 0; i < values.Length; i += 2)
        {
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble()));
            double angle = 2.0 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(angle));
        }
    }

    // A fixed mix (SplitMix64 finaliser), not HashCode: that one is randomised per process.
    internal static int MixSeed(int seed, int stream, int block)
    {
        ulong z = ((ulong)(uint)seed << 32) ^ ((ulong)(uint)stream << 20) ^ (uint)block;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }
}
