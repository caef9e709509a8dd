using BenchmarkDotNet.Attributes;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Benchmarks.Aggregation;

/// <summary>
/// Aggregation of one image's patches at CLIP ViT-B sizes: 196 (224 px), 784 (448 px) and 3,136 (896 px)
/// patches of D = 512. Patches come from the synthetic generator so that they have real structure
/// (regions plus small objects), which decides how fast k-means converges.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("aggregation")]
public class AggregationBenchmarks
{
    private DenseEmbeddings _patches = null!;
    private IAggregator _aggregator = null!;

    [Params(196, 784, 3136)]
    public int Patches { get; set; }

    [Params(8, 16)]
    public int K { get; set; }

    [Params(AggregationStrategy.KMeans, AggregationStrategy.KCenter, AggregationStrategy.Hybrid, AggregationStrategy.Cover)]
    public AggregationStrategy Strategy { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int grid = (int)Math.Sqrt(Patches);
        DenseFeatureSet set = SyntheticDenseGenerator.Generate(new SyntheticDenseOptions { Images = 1, Seed = 1, Dimension = 512, Grid = grid });
        _patches = set.Image(0).Normalized();
        _aggregator = new AggregationOptions { Strategy = Strategy, Clusters = K, MergeThreshold = null }.CreateAggregator();
    }

    [Benchmark]
    public AggregatedImage Aggregate() => _aggregator.Aggregate("benchmark-image", _patches);
}
