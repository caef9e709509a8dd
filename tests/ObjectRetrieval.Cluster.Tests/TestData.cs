using System.Globalization;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>Synthetic representations and queries: random unit vectors, seeded, so every run sees the same data.</summary>
internal static class TestData
{
    public const int Dimension = 32;
    public const int Clusters = 4;
    public const int Grid = 4;
    public const string Model = "test-model:1";

    public static ImageRepresentation Image(string imageId, int seed, int dimension = Dimension, int clusters = Clusters, int grid = Grid)
    {
        var random = new Random(seed);
        float[] global = UnitVector(random, dimension);
        float[] centroids = new float[clusters * dimension];
        for (int c = 0; c < clusters; c++) UnitVector(random, dimension).CopyTo(centroids, c * dimension);
        byte[] assignment = new byte[grid * grid];
        for (int i = 0; i < assignment.Length; i++) assignment[i] = (byte)random.Next(clusters);
        int[] sizes = new int[clusters];
        foreach (byte a in assignment) sizes[a]++;
        return new ImageRepresentation
        {
            ImageId = imageId,
            Dimension = dimension,
            Global = global,
            Centroids = centroids,
            CentroidCount = clusters,
            ClusterSizes = sizes,
            Assignment = assignment,
            GridWidth = grid,
            GridHeight = grid,
            SourceUri = $"file:///images/{imageId}.jpg",
        };
    }

    public static ImageRepresentation[] Images(int count, int seed = 1) =>
        Enumerable.Range(0, count).Select(i => Image(string.Create(CultureInfo.InvariantCulture, $"img-{seed}-{i:D5}"), seed * 100_000 + i)).ToArray();

    public static float[] UnitVector(Random random, int dimension = Dimension)
    {
        var v = new float[dimension];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        VectorMath.Normalize(v);
        return v;
    }

    public static IndexDefinition Definition(string name, int shards = 8) =>
        new(name, Model, Dimension, shards, Clusters, Core.Index.VectorCodecKind.Int8, null, KeepDense: false);
}

/// <summary>A deterministic stand-in for the text tower: the same text always gives the same unit vector.</summary>
internal sealed class HashingQueryEmbedder : IQueryEmbedder
{
    private int _calls;

    public string Model => TestData.Model;

    public int Dimension => TestData.Dimension;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return ValueTask.FromResult(Embed(query));
    }

    public static float[] Embed(string query) => TestData.UnitVector(new Random((int)ShardRouting.StableHash(query)));
}
