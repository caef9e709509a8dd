using BenchmarkDotNet.Attributes;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Compressed;

namespace ObjectRetrieval.Benchmarks.Index;

/// <summary>
/// One top-10 search on one thread over clustered unit vectors (D = 512, one vector per image):
/// the exact scan under each codec and IVF. Each call takes the next of 64 queries so caches
/// see a realistic mix. Size: see <see cref="IndexBenchmarkData"/>.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("index-search")]
public class IndexSearchBenchmarks
{
    private const int K = 10;
    private IndexBenchmarkData _data = null!;
    private int _next;

    [GlobalSetup]
    public void Setup() => _data = IndexBenchmarkData.Instance;

    [Benchmark]
    public IReadOnlyList<SearchHit> ExactFloat32Scan() => _data.FlatFloat32.Search(_data.Query(_next++), K);

    [Benchmark]
    public IReadOnlyList<SearchHit> ExactFloat16Scan() => _data.FlatFloat16.Search(_data.Query(_next++), K);

    [Benchmark]
    public IReadOnlyList<SearchHit> ExactInt8Scan() => _data.FlatInt8.Search(_data.Query(_next++), K);

    /// <summary>Same codes, float query against widened int8 codes: kept to justify quantising the query.</summary>
    [Benchmark]
    public IReadOnlyList<SearchHit> ExactInt8ScanFloatQuery() => _data.FlatInt8FloatQuery.Search(_data.Query(_next++), K);

    [Benchmark]
    public IReadOnlyList<SearchHit> IvfInt8NProbe4() => _data.Ivf.Search(_data.Query(_next++), K, NProbe4);

    [Benchmark]
    public IReadOnlyList<SearchHit> IvfInt8NProbe16() => _data.Ivf.Search(_data.Query(_next++), K, NProbe16);

    /// <summary>Fast-scan PQ64×4 bits, 16 lists probed, 100 rows re-ranked on int8 codes from the mapped file.</summary>
    [Benchmark]
    public CompressedSearchResult Pq64x4NProbe16Rerank100() => _data.Pq64x4.Search(_data.Query(_next++), K, Pq16x100);

    /// <summary>8-bit PQ32 (table lookups by gather), same depths: the 4-bit fast scan must beat it.</summary>
    [Benchmark]
    public CompressedSearchResult Pq32NProbe16Rerank100() => _data.Pq32.Search(_data.Query(_next++), K, Pq16x100);

    private static readonly CompressedSearchSettings Pq16x100 = new(NProbe: 16, RerankDepth: 100);

    private static readonly SearchOptions NProbe4 = new(NProbe: 4);
    private static readonly SearchOptions NProbe16 = new(NProbe: 16);
}
