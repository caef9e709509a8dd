using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Index.Codecs;

/// <summary>
/// Trained product quantiser: the D dimensions split into <see cref="SubQuantizers"/> sub-spaces of
/// <see cref="SubDimension"/> each, every sub-space quantised to one of 2^<see cref="Bits"/> centroids
/// learnt by k-means (squared L2). A code is one centroid index per sub-space (one byte each here;
/// packing is the store's business). Inner products are asymmetric: the query stays float and meets the
/// codes through a per-query table of sub-space inner products (<see cref="ComputeInnerProductTable"/>).
/// Codebooks are also kept transposed (dimension-major), so encoding and table building run over all
/// centroids of a sub-space with one vector operation per dimension.
/// </summary>
public sealed class ProductQuantizer
{
    private readonly float[] _codebooks;   // [m][c][d]
    private readonly float[] _transposed;  // [m][d][c]
    private readonly float[] _halfNorms;   // [m][c]: ‖centroid‖² / 2

    public ProductQuantizer(int dimension, int subQuantizers, int bits, float[] codebooks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (subQuantizers <= 0 || dimension % subQuantizers != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(subQuantizers), subQuantizers, $"The dimension {dimension} must split evenly into sub-quantisers.");
        }

        if (bits is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "Sub-quantisers have 4 or 8 bits.");
        Dimension = dimension;
        SubQuantizers = subQuantizers;
        Bits = bits;
        SubDimension = dimension / subQuantizers;
        CentroidsPerSubQuantizer = 1 << bits;
        if (codebooks.Length != dimension * CentroidsPerSubQuantizer)
        {
            throw new ArgumentException($"Codebooks hold {codebooks.Length} values; {subQuantizers} × {CentroidsPerSubQuantizer} × {SubDimension} expected.", nameof(codebooks));
        }

        _codebooks = codebooks;
        _transposed = new float[codebooks.Length];
        _halfNorms = new float[subQuantizers * CentroidsPerSubQuantizer];
        int ksub = CentroidsPerSubQuantizer, dsub = SubDimension;
        for (int m = 0; m < subQuantizers; m++)
        {
            for (int c = 0; c < ksub; c++)
            {
                ReadOnlySpan<float> centroid = Centroid(m, c);
                _halfNorms[m * ksub + c] = 0.5f * TensorPrimitives.Dot(centroid, centroid);
                for (int d = 0; d < dsub; d++) _transposed[(m * dsub + d) * ksub + c] = centroid[d];
            }
        }
    }

    public int Dimension { get; }

    public int SubQuantizers { get; }

    public int Bits { get; }

    public int SubDimension { get; }

    public int CentroidsPerSubQuantizer { get; }

    /// <summary>Entries of one query's table: SubQuantizers × CentroidsPerSubQuantizer.</summary>
    public int TableLength => SubQuantizers * CentroidsPerSubQuantizer;

    public ReadOnlySpan<float> Codebooks => _codebooks;

    public long MemoryBytes => (_codebooks.LongLength + _transposed.LongLength + _halfNorms.LongLength) * sizeof(float);

    public ReadOnlySpan<float> Centroid(int subQuantizer, int centroid) =>
        _codebooks.AsSpan((subQuantizer * CentroidsPerSubQuantizer + centroid) * SubDimension, SubDimension);

    /// <summary>Trains on <paramref name="count"/> row-major vectors by k-means per sub-space; deterministic for a seed.</summary>
    public static ProductQuantizer Train(float[] data, int count, int dimension, int subQuantizers, int bits, int iterations, int seed)
    {
        var shape = new ProductQuantizer(dimension, subQuantizers, bits, new float[dimension << bits]);
        int ksub = shape.CentroidsPerSubQuantizer, dsub = shape.SubDimension;
        if (count < ksub) throw new ArgumentException($"Training a {bits}-bit product quantiser needs at least {ksub} vectors; {count} given.");
        float[] codebooks = new float[dimension * ksub];
        Parallel.For(0, subQuantizers, m =>
        {
            float[] sub = new float[count * dsub];
            for (int i = 0; i < count; i++) data.AsSpan(i * dimension + m * dsub, dsub).CopyTo(sub.AsSpan(i * dsub, dsub));
            float[] centroids = SubspaceKMeans(sub, count, dsub, ksub, iterations, new Random(seed * 7919 + m));
            centroids.CopyTo(codebooks.AsSpan(m * ksub * dsub));
        });
        return new ProductQuantizer(dimension, subQuantizers, bits, codebooks);
    }

    /// <summary>Writes one centroid index per sub-space into <paramref name="code"/> (SubQuantizers bytes).</summary>
    public void Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        int ksub = CentroidsPerSubQuantizer, dsub = SubDimension;
        Span<float> scores = stackalloc float[ksub];
        for (int m = 0; m < SubQuantizers; m++)
        {
            // Nearest centroid in L2 = highest x·c − ‖c‖²/2.
            _halfNorms.AsSpan(m * ksub, ksub).CopyTo(scores);
            TensorPrimitives.Negate(scores, scores);
            AccumulateDots(vector.Slice(m * dsub, dsub), m, scores);
            code[m] = (byte)TensorPrimitives.IndexOfMax(scores);
        }
    }

    public void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        for (int m = 0; m < SubQuantizers; m++) Centroid(m, code[m]).CopyTo(vector.Slice(m * SubDimension, SubDimension));
    }

    /// <summary>table[m · ksub + c] = query sub-vector m · centroid c of sub-space m; the sum over m of a code's entries is the query's inner product with the decoded code.</summary>
    public void ComputeInnerProductTable(ReadOnlySpan<float> query, Span<float> table)
    {
        int ksub = CentroidsPerSubQuantizer;
        table = table[..TableLength];
        table.Clear();
        for (int m = 0; m < SubQuantizers; m++) AccumulateDots(query.Slice(m * SubDimension, SubDimension), m, table.Slice(m * ksub, ksub));
    }

    private void AccumulateDots(ReadOnlySpan<float> subVector, int m, Span<float> scores)
    {
        int ksub = CentroidsPerSubQuantizer;
        for (int d = 0; d < subVector.Length; d++)
        {
            ReadOnlySpan<float> column = _transposed.AsSpan((m * SubDimension + d) * ksub, ksub);
            TensorPrimitives.MultiplyAdd(column, subVector[d], scores, scores);
        }
    }

    /// <summary>Lloyd's k-means in squared L2 on small sub-vectors; empty clusters take a random point.</summary>
    private static float[] SubspaceKMeans(float[] points, int count, int dim, int k, int iterations, Random random)
    {
        float[] centroids = new float[k * dim];
        int[] start = CoarseKMeans.SampleDistinct(count, k, random);
        for (int c = 0; c < k; c++) points.AsSpan(start[c] * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
        int[] assignment = new int[count];
        int[] sizes = new int[k];
        float[] transposed = new float[k * dim];
        float[] halfNorms = new float[k];
        float[] scores = new float[k];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            for (int c = 0; c < k; c++)
            {
                ReadOnlySpan<float> centroid = centroids.AsSpan(c * dim, dim);
                halfNorms[c] = 0.5f * TensorPrimitives.Dot(centroid, centroid);
                for (int d = 0; d < dim; d++) transposed[d * k + c] = centroid[d];
            }

            for (int i = 0; i < count; i++)
            {
                TensorPrimitives.Negate(halfNorms, scores);
                for (int d = 0; d < dim; d++) TensorPrimitives.MultiplyAdd(transposed.AsSpan(d * k, k), points[i * dim + d], scores, scores);
                assignment[i] = TensorPrimitives.IndexOfMax(scores);
            }

            Array.Clear(centroids);
            Array.Clear(sizes);
            for (int i = 0; i < count; i++)
            {
                int c = assignment[i];
                sizes[c]++;
                Span<float> sum = centroids.AsSpan(c * dim, dim);
                TensorPrimitives.Add(sum, points.AsSpan(i * dim, dim), sum);
            }

            for (int c = 0; c < k; c++)
            {
                Span<float> centroid = centroids.AsSpan(c * dim, dim);
                if (sizes[c] == 0) points.AsSpan(random.Next(count) * dim, dim).CopyTo(centroid);
                else TensorPrimitives.Multiply(centroid, 1f / sizes[c], centroid);
            }
        }

        return centroids;
    }
}
