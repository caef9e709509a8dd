using BenchmarkDotNet.Attributes;
using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Benchmarks.Index;

/// <summary>The gateway's merge: 64 shard lists of 50 hits into the global top 50, against sorting everything.</summary>
[MemoryDiagnoser]
[BenchmarkCategory("topk-merge")]
public class TopKMergeBenchmarks
{
    private const int Shards = 64;
    private const int K = 50;
    private IReadOnlyList<SearchHit>[] _lists = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _lists = Enumerable.Range(0, Shards).Select(s => (IReadOnlyList<SearchHit>)Enumerable.Range(0, K)
            .Select(i => new SearchHit($"shard{s}/image{i}", (float)random.NextDouble(), i % 8))
            .OrderByDescending(h => h.Score)
            .ToArray()).ToArray();
    }

    [Benchmark]
    public IReadOnlyList<SearchHit> BoundedHeapMerge() => TopKMerger.Merge(_lists, K);

    /// <summary>The obvious alternative, as the in-run baseline of the merge budget.</summary>
    [Benchmark]
    public List<SearchHit> ConcatSortTake() => _lists.SelectMany(l => l).Order(SearchHitOrder.BestFirst).Take(K).ToList();
}
