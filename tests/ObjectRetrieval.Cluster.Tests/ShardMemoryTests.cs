using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;
using Xunit.Abstractions;

namespace ObjectRetrieval.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ShardMemoryTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_sealed_shard_reports_codes_and_a_slim_record_per_image_but_no_float_vectors()
    {
        // Code stores grow by doubling; 240 images nearly fill theirs (17 × 240 = 4,080 of 4,096 cluster rows), so the
        // figure is the steady state rather than a half-empty allocation.
        const int dimension = 64, clusters = 16, grid = 8, count = 240;
        var index = new IndexDefinition("memory-k16", TestData.Model, dimension, 1, clusters, VectorCodecKind.Int8, null, KeepDense: false);
        Assert.Equal(IndexCreation.Created, await fixture.Handle.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index));
        ImageRepresentation[] images = Enumerable.Range(0, count)
            .Select(i => TestData.Image($"mem-{i:D5}", 900_000 + i, dimension, clusters, grid))
            .ToArray();
        IIndexShardGrain shard = fixture.Gateway.FanOut.Shard(index, 0);
        await shard.UpsertAsync(images.Select(EncodedImage.From).ToArray());

        // The global index holds one vector per image, the cluster index the centroids and the global vector.
        long codes = (1 + clusters + 1) * new FlatVectorIndex(dimension, index.Codec).CodeBytesPerVector;
        long floats = sizeof(float) * (1 + clusters) * (long)dimension;
        long assignment = grid * grid;
        long sourceUri = 22 + 2L * images[0].SourceUri!.Length;

        // Until a seal writes them out, upserted images are held in full, and counted.
        ShardStats unsealed = await shard.StatsAsync();
        Assert.True(unsealed.MemoryBytes / count >= codes + floats, $"{unsealed.MemoryBytes / count} bytes per unsealed image; its floats alone are {floats}.");

        await shard.SealAsync();
        ShardStats sealedShard = await shard.StatsAsync();
        Assert.Equal(count, sealedShard.Images);
        long perImage = sealedShard.MemoryBytes / count;
        long outsideIndexes = (sealedShard.MemoryBytes - IndexBytes(sealedShard)) / count;
        output.WriteLine($"D={dimension} K={clusters}: {unsealed.MemoryBytes / count} bytes per image unsealed, {perImage} sealed ({codes} of codes, {outsideIndexes} outside the indexes).");

        // Bounds: the indexes' id tables and the record's headers fit in 512 bytes beside the codes and the map;
        // outside the indexes there is the map, the source URI and 128 bytes of headers and dictionary entry.
        Assert.True(perImage <= codes + assignment + 512, $"{perImage} bytes per sealed image; bound {codes + assignment + 512}.");
        Assert.True(outsideIndexes <= assignment + sourceUri + 128, $"{outsideIndexes} bytes per image outside the indexes; bound {assignment + sourceUri + 128}.");
        Assert.True(unsealed.MemoryBytes - sealedShard.MemoryBytes >= count * floats, "Sealing did not release the images' float vectors.");
    }

    private static long IndexBytes(ShardStats stats)
    {
        ModeMemory modes = stats.MemoryByMode ?? throw new InvalidOperationException("The shard reported no memory by mode.");
        return modes.Global + modes.Cluster + modes.Dense;
    }
}
