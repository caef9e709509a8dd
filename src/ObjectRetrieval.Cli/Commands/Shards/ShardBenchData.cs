using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Shards;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Cli.Commands.Shards;

/// <summary>Synthetic images and shard stores shared by the shard benches: deterministic per (id, version).</summary>
internal static class ShardBenchData
{
    public const string VersionKey = "v";

    public static ShardLayout Layout(int dimension) => new("bench", dimension, VectorCodecKind.Int8, Ivf: null, KeepDense: false);

    public static ImageRepresentation Image(string imageId, int version, int dimension, int clusters)
    {
        var random = new Random(Stable(imageId) ^ (version * 7919));
        byte[] assignment = new byte[8 * 8];
        for (int i = 0; i < assignment.Length; i++) assignment[i] = (byte)random.Next(clusters);
        int[] sizes = new int[clusters];
        foreach (byte a in assignment) sizes[a]++;
        float[] centroids = new float[clusters * dimension];
        for (int c = 0; c < clusters; c++) Unit(random, dimension).CopyTo(centroids, c * dimension);
        return new ImageRepresentation
        {
            ImageId = imageId,
            Dimension = dimension,
            Global = Unit(random, dimension),
            Centroids = centroids,
            CentroidCount = clusters,
            ClusterSizes = sizes,
            Assignment = assignment,
            GridWidth = 8,
            GridHeight = 8,
            SourceUri = $"synthetic://{imageId}",
            Metadata = new Dictionary<string, string> { [VersionKey] = version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
    }

    public static ShardUpsert Upsert(ImageRepresentation image) => new(image.ImageId, RepresentationSerializer.Serialize(image));

    public static float[] Query(int seed, int dimension) => Unit(new Random(1_000_003 + seed), dimension);

    /// <summary>A local folder, or a blob container prefix when a connection string is given.</summary>
    public static IShardStore Store(string? directory, string? blobConnection, string? container, string shard)
    {
        if (blobConnection is not null)
        {
            return new BlobIndexStorage(new BlobContainerClient(blobConnection, container ?? "shard-bench")).OpenShard(shard);
        }

        return new LocalShardStore(Path.Combine(directory ?? throw new ArgumentException("Give --dir or --blob."), shard));
    }

    public static Task<ShardEngine> OpenAsync(IShardStore store, ShardLayout layout, ShardEngineOptions options) =>
        ShardEngine.OpenAsync(store, layout, options, NoShardEvents.Instance, NullLogger.Instance, TimeProvider.System);

    private static int Stable(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return (int)hash;
    }

    private static float[] Unit(Random random, int dimension)
    {
        float[] v = new float[dimension];
        double norm = 0;
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(random.NextDouble() * 2 - 1);
            norm += v[i] * v[i];
        }

        for (int i = 0; i < v.Length; i++) v[i] /= (float)Math.Sqrt(norm);
        return v;
    }
}
