using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;

namespace ObjectRetrieval.Cluster.Tests;

/// <summary>Role-aware placement: shards and index definitions live only on silos that publish the index role.</summary>
public sealed class PlacementTests
{
    [Fact]
    public async Task Shards_are_placed_only_on_silos_with_the_index_role()
    {
        string directory = Path.Combine(Path.GetTempPath(), "objret-placement-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The first silo configured is an encoder/gateway silo without the index role; the client's calls may enter through it.
            string? withoutIndex = null;
            await using TestClusterHandle handle = await TestClusterHandle.StartAsync(
                3,
                () => new LocalDirectoryIndexStorage(directory),
                name => (withoutIndex ??= name) == name ? [SiloRoles.Encoder, SiloRoles.Gateway] : [SiloRoles.Index]);
            string excluded = handle.Cluster.Silos.Single(s => s.Name == withoutIndex).SiloAddress.ToString();
            string[] indexSilos = handle.Cluster.Silos.Where(s => s.Name != withoutIndex).Select(s => s.SiloAddress.ToString()).ToArray();

            IndexDefinition index = TestData.Definition("placed", shards: 24);
            Assert.Equal(IndexCreation.Created, await handle.Client.GetGrain<IIndexGrain>(index.Name).CreateAsync(index));
            var fanOut = new ShardFanOut(handle.Client, Options.Create(new GatewayOptions { ShardDeadline = TimeSpan.FromSeconds(30) }), TimeProvider.System, NullLogger<ShardFanOut>.Instance);
            Assert.Equal(120, await fanOut.UpsertAsync(index, TestData.Images(120, seed: 31).Select(EncodedImage.From).ToArray()));

            FanOutResult<ShardStats> stats = await fanOut.StatsAsync(index);
            Assert.False(stats.Partial);
            Assert.Equal(24, stats.Answers.Count);
            Assert.All(stats.Answers, s => Assert.Contains(s.Silo, indexSilos));
            Assert.DoesNotContain(stats.Answers, s => s.Silo == excluded);
            Assert.Equal(2, stats.Answers.Select(s => s.Silo).Distinct().Count());

            SearchOutcome found = await fanOut.SearchAsync(index, new ShardQuery(HashingQueryEmbedder.Embed("kite"), 10, ScoringMode.Cluster, null, Explain: false));
            Assert.Equal(10, found.Hits.Count);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
