using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Gateway;

namespace ObjectRetrieval.Cluster.Tests;

public sealed class QueryEmbeddingCacheTests
{
    [Fact]
    public async Task The_same_query_text_is_embedded_once_per_model_and_template_set()
    {
        var embedder = new CountingQueryEmbedder();
        var cache = new QueryEmbeddingCache(embedder, Options.Create(new GatewayOptions()));

        float[] first = await cache.EmbedAsync("red", CancellationToken.None);
        Assert.Same(first, await cache.EmbedAsync(" red ", CancellationToken.None));
        Assert.Equal(1, embedder.Calls);

        embedder.TemplateSet = "imagenet80";
        float[] otherTemplates = await cache.EmbedAsync("red", CancellationToken.None);
        Assert.NotSame(first, otherTemplates);
        Assert.Equal(2, embedder.Calls);

        embedder.Model = "demo-colours:2";
        Assert.NotSame(otherTemplates, await cache.EmbedAsync("red", CancellationToken.None));
        Assert.Equal(3, embedder.Calls);

        Assert.Equal(1, cache.Hits);
        Assert.Equal(3, cache.Misses);
    }

    [Fact]
    public async Task The_embedder_sees_the_query_text_not_the_cache_key()
    {
        var embedder = new CountingQueryEmbedder { TemplateSet = "imagenet80" };
        var cache = new QueryEmbeddingCache(embedder, Options.Create(new GatewayOptions()));
        await cache.EmbedAsync("  blue car ", CancellationToken.None);
        Assert.Equal(["blue car"], embedder.Queries);
    }

    private sealed class CountingQueryEmbedder : IQueryEmbedder
    {
        public string Model { get; set; } = TestData.Model;

        public string TemplateSet { get; set; } = "list3-0011223344556677";

        public int Dimension => TestData.Dimension;

        public int Calls => Queries.Count;

        public List<string> Queries { get; } = [];

        public ValueTask<float[]> EmbedAsync(string query, CancellationToken cancellationToken = default)
        {
            Queries.Add(query);
            return ValueTask.FromResult(TestData.UnitVector(new Random(Queries.Count)));
        }
    }
}
