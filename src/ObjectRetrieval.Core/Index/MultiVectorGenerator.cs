using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Synthetic multi-vector images with text-like queries, for the index benchmarks. Concepts are random
/// unit vectors with skewed (Zipf) popularity, as real collections have. Each image holds K vectors;
/// each vector belongs to a concept drawn by popularity, at cosine <see cref="VectorCosine"/> to it
/// (as in <see cref="ClusteredVectorGenerator"/>). A query mixes a main concept (drawn by popularity),
/// a second concept and an offset shared by all queries, plus noise, so its cosine to its main concept
/// is about <see cref="QueryCosine"/>: text embeddings lie far from image embeddings, and their
/// neighbours need not sit in the lists whose centroids are nearest to the query.
/// Output depends on the seed only, never on the thread count.
/// </summary>
public sealed class MultiVectorGenerator
{
    public const int ImagesPerBlock = 64;

    /// <summary>Weights of the second concept and of the shared offset in a query (the main concept's is <see cref="QueryCosine"/>).</summary>
    public const float SecondConceptWeight = 0.3f, SharedOffsetWeight = 0.6f;

    private const int ImageStream = 10, QueryStream = 11;

    private readonly float[] _concepts;
    private readonly double[] _cumulative;
    private readonly float[] _offset;

    public MultiVectorGenerator(int dimension, int vectorsPerImage, int conceptCount, float vectorCosine, float queryCosine, double zipfExponent, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 8);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vectorsPerImage);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(conceptCount);
        if (!(vectorCosine is > 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(vectorCosine), vectorCosine, "Must be in (0, 1].");
        float fixedShare = queryCosine * queryCosine + SecondConceptWeight * SecondConceptWeight + SharedOffsetWeight * SharedOffsetWeight;
        if (!(queryCosine > 0f) || fixedShare > 1f)
        {
            throw new ArgumentOutOfRangeException(nameof(queryCosine), queryCosine, $"Query cosine must be in (0, {MathF.Sqrt(1f - SecondConceptWeight * SecondConceptWeight - SharedOffsetWeight * SharedOffsetWeight):F2}].");
        }

        if (zipfExponent < 0) throw new ArgumentOutOfRangeException(nameof(zipfExponent), zipfExponent, "Must not be negative.");
        Dimension = dimension;
        VectorsPerImage = vectorsPerImage;
        ConceptCount = conceptCount;
        VectorCosine = vectorCosine;
        QueryCosine = queryCosine;
        Seed = seed;
        var random = new Random(ClusteredVectorGenerator.MixSeed(seed, -2, 0));
        _concepts = new float[(long)conceptCount * dimension];
        for (int c = 0; c < conceptCount; c++) RandomUnit(random, _concepts.AsSpan(c * dimension, dimension));
        _offset = new float[dimension];
        RandomUnit(random, _offset);
        _cumulative = new double[conceptCount];
        double total = 0;
        for (int c = 0; c < conceptCount; c++) _cumulative[c] = total += 1.0 / Math.Pow(c + 1, zipfExponent);
        for (int c = 0; c < conceptCount; c++) _cumulative[c] /= total;
    }

    public int Dimension { get; }

    public int VectorsPerImage { get; }

    public int ConceptCount { get; }

    public float VectorCosine { get; }

    public float QueryCosine { get; }

    public int Seed { get; }

    public ReadOnlySpan<float> Concept(int index) => _concepts.AsSpan(index * Dimension, Dimension);

    /// <summary>Generates <paramref name="images"/> × K rows (an image's vectors consecutive) into <paramref name="sink"/>, in batches built on all cores.</summary>
    public void GenerateImages(int images, ClusteredVectorGenerator.BatchSink sink, int blocksPerBatch = 64)
    {
        int rowsPerBlock = ImagesPerBlock * VectorsPerImage;
        float[] batch = new float[(long)blocksPerBatch * rowsPerBlock * Dimension];
        int blocks = (images + ImagesPerBlock - 1) / ImagesPerBlock;
        for (int first = 0; first < blocks; first += blocksPerBatch)
        {
            int batchBlocks = Math.Min(blocksPerBatch, blocks - first);
            Parallel.For(0, batchBlocks, b =>
            {
                int block = first + b;
                int rows = Math.Min(ImagesPerBlock, images - block * ImagesPerBlock) * VectorsPerImage;
                var random = new Random(ClusteredVectorGenerator.MixSeed(Seed, ImageStream, block));
                Span<float> destination = batch.AsSpan(b * rowsPerBlock * Dimension, rows * Dimension);
                for (int r = 0; r < rows; r++) ImageVector(random, destination.Slice(r * Dimension, Dimension));
            });
            int batchRows = Math.Min(batchBlocks * ImagesPerBlock, images - first * ImagesPerBlock) * VectorsPerImage;
            sink(batch.AsSpan(0, batchRows * Dimension), batchRows);
        }
    }

    /// <summary><paramref name="count"/> text-like queries, row-major.</summary>
    public float[] GenerateQueries(int count)
    {
        float[] queries = new float[(long)count * Dimension];
        var random = new Random(ClusteredVectorGenerator.MixSeed(Seed, QueryStream, 0));
        float noise = MathF.Sqrt(1f - QueryCosine * QueryCosine - SecondConceptWeight * SecondConceptWeight - SharedOffsetWeight * SharedOffsetWeight);
        Span<float> part = new float[Dimension];
        for (int q = 0; q < count; q++)
        {
            Span<float> query = queries.AsSpan(q * Dimension, Dimension);
            int main = DrawConcept(random);
            int second;
            do second = DrawConcept(random); while (second == main && ConceptCount > 1);
            RandomUnit(random, part);
            TensorPrimitives.Multiply(part, noise, query);
            TensorPrimitives.MultiplyAdd(Concept(main), QueryCosine, query, query);
            TensorPrimitives.MultiplyAdd(Concept(second), SecondConceptWeight, query, query);
            TensorPrimitives.MultiplyAdd(_offset, SharedOffsetWeight, query, query);
            TensorPrimitives.Multiply(query, 1f / TensorPrimitives.Norm(query), query);
        }

        return queries;
    }

    private void ImageVector(Random random, Span<float> vector)
    {
        ReadOnlySpan<float> concept = Concept(DrawConcept(random));
        ClusteredVectorGenerator.FillGaussian(random, vector);
        TensorPrimitives.MultiplyAdd(concept, -TensorPrimitives.Dot(vector, concept), vector, vector);
        TensorPrimitives.Multiply(vector, MathF.Sqrt(1f - VectorCosine * VectorCosine) / TensorPrimitives.Norm(vector), vector);
        TensorPrimitives.MultiplyAdd(concept, VectorCosine, vector, vector);
        TensorPrimitives.Multiply(vector, 1f / TensorPrimitives.Norm(vector), vector);
    }

    private int DrawConcept(Random random)
    {
        int found = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(ConceptCount - 1, found >= 0 ? found : ~found);
    }

    private static void RandomUnit(Random random, Span<float> vector)
    {
        ClusteredVectorGenerator.FillGaussian(random, vector);
        TensorPrimitives.Multiply(vector, 1f / TensorPrimitives.Norm(vector), vector);
    }
}
