using System.Globalization;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Codecs;
using ObjectRetrieval.Core.Index.Compressed;

namespace ObjectRetrieval.Benchmarks.Index;

/// <summary>
/// One clustered data set and its indexes, built once per process and shared by every index
/// benchmark case (BenchmarkDotNet runs a global setup per case). Size from the environment:
/// OBJRET_BENCH_VECTORS (default 100,000; 1,000,000 for the full-size run) and
/// OBJRET_BENCH_LISTS (IVF lists, default 4·√vectors rounded to a power of two).
/// </summary>
internal sealed class IndexBenchmarkData
{
    public const int Dimension = 512;
    public const int QueryCount = 64;

    private static readonly Lazy<IndexBenchmarkData> Shared = new(() => new IndexBenchmarkData());

    private IndexBenchmarkData()
    {
        VectorCount = EnvInt("OBJRET_BENCH_VECTORS", 100_000);
        int lists = EnvInt("OBJRET_BENCH_LISTS", (int)Math.Min(4096, 1 << (int)Math.Round(Math.Log2(4 * Math.Sqrt(VectorCount)))));
        // 50 vectors per centre on average, cosine 0.75: the shape of the 1M / 20,000-centre target set.
        var generator = new ClusteredVectorGenerator(Dimension, Math.Max(1, VectorCount / 50), 0.75f, seed: 42);
        Queries = generator.Generate(QueryCount, ClusteredVectorGenerator.QueryStream);

        FlatInt8 = new FlatVectorIndex(Dimension, VectorCodecKind.Int8);
        FlatInt8FloatQuery = new FlatVectorIndex(new Int8VectorCodec(Dimension, quantizeQuery: false));
        FlatFloat16 = new FlatVectorIndex(Dimension, VectorCodecKind.Float16);
        FlatFloat32 = new FlatVectorIndex(Dimension, VectorCodecKind.Float32);
        Ivf = new IvfVectorIndex(Dimension, VectorCodecKind.Int8, new IvfOptions { ListCount = lists });
        float[] all = new float[(long)VectorCount * Dimension];
        int next = 0;
        generator.Generate(VectorCount, ClusteredVectorGenerator.BaseStream, (vectors, count) =>
        {
            for (int i = 0; i < count; i++, next++)
            {
                string id = next.ToString(CultureInfo.InvariantCulture);
                ReadOnlySpan<float> vector = vectors.Slice(i * Dimension, Dimension);
                FlatInt8.Upsert(id, vector, 1);
                FlatInt8FloatQuery.Upsert(id, vector, 1);
                FlatFloat16.Upsert(id, vector, 1);
                FlatFloat32.Upsert(id, vector, 1);
                Ivf.Upsert(id, vector, 1);
                vector.CopyTo(all.AsSpan(next * Dimension));
            }
        });
        Ivf.Train();
        Pq64x4 = BuildCompressed(all, lists, bits: 4);
        Pq32 = BuildCompressed(all, lists, bits: 8, subQuantizers: 32);
    }

    /// <summary>The compressed index over the same vectors; its re-rank file lives in a temporary folder removed at exit.</summary>
    private CompressedMultiVectorIndex BuildCompressed(float[] all, int lists, int bits, int subQuantizers = 64)
    {
        IndexModel model = IndexModel.Train(all, VectorCount, Dimension, new IndexModelOptions { ListCount = lists, SubQuantizers = subQuantizers, Bits = bits });
        string folder = Directory.CreateTempSubdirectory("objret-bench-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        using var writer = new CompressedIndexWriter(model, Path.Combine(folder, "codes.rerank"));
        EncodedVectors encoded = model.EncodeParallel(all, VectorCount);
        for (int i = 0; i < VectorCount; i++) writer.Add(encoded.Slice(i, 1));
        return writer.Complete();
    }

    /// <summary>4-bit fast-scan PQ64 (32 B per vector) over IVF lists, int8 re-rank from a mapped file.</summary>
    public CompressedMultiVectorIndex Pq64x4 { get; }

    /// <summary>8-bit PQ32 (32 B per vector) over IVF lists, int8 re-rank from a mapped file.</summary>
    public CompressedMultiVectorIndex Pq32 { get; }

    public static IndexBenchmarkData Instance => Shared.Value;

    public int VectorCount { get; }

    public float[] Queries { get; }

    public FlatVectorIndex FlatInt8 { get; }

    public FlatVectorIndex FlatInt8FloatQuery { get; }

    public FlatVectorIndex FlatFloat16 { get; }

    public FlatVectorIndex FlatFloat32 { get; }

    public IvfVectorIndex Ivf { get; }

    public ReadOnlySpan<float> Query(int index) => Queries.AsSpan(index % QueryCount * Dimension, Dimension);

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;
}
