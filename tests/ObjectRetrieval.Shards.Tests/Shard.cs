using Microsoft.Extensions.Logging.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards.Tests;

/// <summary>Test images and engines: small dimension, few clusters, deterministic vectors.</summary>
internal static class Shard
{
    public const int Dimension = 16;
    public const int Clusters = 3;

    public static ShardLayout Layout { get; } = new("test-index", Dimension, VectorCodecKind.Float32, Ivf: null, KeepDense: false);

    public static Task<ShardEngine> OpenAsync(IShardStore store, ShardEngineOptions? options = null, TimeProvider? time = null, IShardEvents? events = null) =>
        ShardEngine.OpenAsync(store, Layout, options ?? new ShardEngineOptions(), events ?? NoShardEvents.Instance, NullLogger.Instance, time ?? TimeProvider.System);

    public static ImageRepresentation Image(string imageId, int seed)
    {
        var random = new Random(seed);
        byte[] assignment = new byte[4 * 4];
        for (int i = 0; i < assignment.Length; i++) assignment[i] = (byte)random.Next(Clusters);
        int[] sizes = new int[Clusters];
        foreach (byte a in assignment) sizes[a]++;
        float[] centroids = new float[Clusters * Dimension];
        for (int c = 0; c < Clusters; c++) Unit(random).CopyTo(centroids, c * Dimension);
        return new ImageRepresentation
        {
            ImageId = imageId,
            Dimension = Dimension,
            Global = Unit(random),
            Centroids = centroids,
            CentroidCount = Clusters,
            ClusterSizes = sizes,
            Assignment = assignment,
            GridWidth = 4,
            GridHeight = 4,
            SourceUri = $"file:///images/{imageId}.jpg",
        };
    }

    public static ShardUpsert Upsert(ImageRepresentation image) => new(image.ImageId, RepresentationSerializer.Serialize(image));

    public static ShardUpsert[] Batch(int from, int count, int seed = 0) =>
        Enumerable.Range(from, count).Select(i => Upsert(Image($"img-{i:D5}", seed * 100_000 + i))).ToArray();

    public static float[] Query(int seed) => Unit(new Random(seed + 1_000_000));

    /// <summary>Every live image ranked for a few queries, as text: what a client can see.</summary>
    public static List<string> Describe(ShardEngine engine)
    {
        var lines = new List<string>();
        foreach (int seed in new[] { 1, 2, 3 })
        {
            foreach (ScoringMode mode in new[] { ScoringMode.Cluster, ScoringMode.Global })
            {
                foreach (ShardMatch match in engine.Reader.Search(new ShardSearch(Query(seed), 10_000, mode, null)))
                {
                    lines.Add(FormattableString.Invariant($"{seed}/{mode}: {match.ImageId} {match.Score:R} {match.MatchedCluster} {match.Image.SourceUri}"));
                }
            }
        }

        return lines;
    }

    public static IEnumerable<string> Ids(ShardEngine engine) =>
        engine.Reader.Search(new ShardSearch(Query(0), 100_000, ScoringMode.Global, null)).Select(m => m.ImageId).Order(StringComparer.Ordinal);

    private static float[] Unit(Random random)
    {
        float[] v = new float[Dimension];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
        return v;
    }
}
