using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectRetrieval.Abstractions;

namespace ObjectRetrieval.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class GatewayApiTests(ClusterFixture fixture)
{
    private HttpClient Http => fixture.Gateway.Http;

    private async Task EnsureIndexAsync(string name)
    {
        HttpResponseMessage created = await Http.PostAsJsonAsync("/api/v1/indexes", new { name, shards = 3, clusters = TestData.Clusters });
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await created.Content.ReadAsStringAsync());
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(body);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("title", out _));
    }

    public static TheoryData<string, string> InvalidSearches => new()
    {
        { "empty query", """{"query":"   ","k":10}""" },
        { "missing query", """{"k":10}""" },
        { "query over 1000 characters", $$"""{"query":"{{new string('a', 1001)}}","k":10}""" },
        { "k zero", """{"query":"cat","k":0}""" },
        { "k negative", """{"query":"cat","k":-3}""" },
        { "k over 1000", """{"query":"cat","k":1001}""" },
        { "unknown mode", """{"query":"cat","mode":"sparkly"}""" },
        { "dense mode on an index without patches", """{"query":"cat","mode":"dense"}""" },
        { "malformed JSON", """{"query":"cat","k":""" },
        { "k of the wrong type", """{"query":"cat","k":"many"}""" },
    };

    [Theory]
    [MemberData(nameof(InvalidSearches))]
    public async Task Invalid_search_requests_get_problem_details(string _, string body)
    {
        await EnsureIndexAsync("api-validation");
        HttpResponseMessage response = await Http.PostAsync("/api/v1/indexes/api-validation/search", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_index_is_a_404_problem()
    {
        await AssertProblemAsync(await Http.PostAsJsonAsync("/api/v1/indexes/no-such-index/search", new { query = "cat" }), HttpStatusCode.NotFound);
        await AssertProblemAsync(await Http.GetAsync("/api/v1/indexes/no-such-index"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await Http.DeleteAsync("/api/v1/indexes/no-such-index/images/x"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Index_creation_is_idempotent_and_refuses_conflicts_and_bad_definitions()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsJsonAsync("/api/v1/indexes", new { name = "api-create", shards = 4 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsJsonAsync("/api/v1/indexes", new { name = "api-create", shards = 4 })).StatusCode);
        await AssertProblemAsync(await Http.PostAsJsonAsync("/api/v1/indexes", new { name = "api-create", shards = 5 }), HttpStatusCode.Conflict);
        await AssertProblemAsync(await Http.PostAsJsonAsync("/api/v1/indexes", new { name = "Bad Name!" }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await Http.PostAsJsonAsync("/api/v1/indexes", new { name = "api-zero", shards = 0 }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await Http.PostAsJsonAsync("/api/v1/indexes", new { name = "api-codec", codec = "int3" }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Search_over_http_merges_shards_explains_and_caches_the_query_embedding()
    {
        await EnsureIndexAsync("api-search");
        IndexDefinition index = (await fixture.Handle.Client.GetGrain<IIndexGrain>("api-search").GetDefinitionAsync())!;
        await fixture.Gateway.FanOut.UpsertAsync(index, TestData.Images(60, seed: 9).Select(EncodedImage.From).ToArray());

        int callsBefore = fixture.Gateway.Embedder.Calls;
        JsonElement first = await SearchAsync(new { query = "red umbrella", k = 10, explain = true });
        JsonElement second = await SearchAsync(new { query = "red umbrella", k = 10, explain = true });
        Assert.Equal(callsBefore + 1, fixture.Gateway.Embedder.Calls);
        Assert.False(first.GetProperty("partial").GetBoolean());
        Assert.Equal(0, first.GetProperty("missingShards").GetArrayLength());
        Assert.True(first.GetProperty("tookMs").GetDouble() >= 0);
        JsonElement hits = first.GetProperty("hits");
        Assert.Equal(10, hits.GetArrayLength());
        Assert.Equal(hits.ToString(), second.GetProperty("hits").ToString());
        float previous = float.MaxValue;
        foreach (JsonElement hit in hits.EnumerateArray())
        {
            float score = hit.GetProperty("score").GetSingle();
            Assert.True(score <= previous);
            previous = score;
            // Hits are addressed by id alone: the stored source (a file URI here) never leaves the gateway.
            Assert.False(hit.TryGetProperty("sourceUri", out _), $"A hit carries its source: {hit}");
            if (hit.GetProperty("matchedCluster").ValueKind == JsonValueKind.Number)
            {
                JsonElement region = hit.GetProperty("region");
                Assert.Equal(TestData.Grid, region.GetProperty("mask").GetArrayLength());
                Assert.Contains('1', string.Concat(region.GetProperty("mask").EnumerateArray().Select(r => r.GetString())));
            }
        }

        JsonElement stats = JsonDocument.Parse(await Http.GetStringAsync("/api/v1/indexes/api-search")).RootElement;
        Assert.Equal(60, stats.GetProperty("images").GetInt32());
        Assert.Equal(3, stats.GetProperty("shards").GetArrayLength());

        string victim = hits[0].GetProperty("imageId").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync($"/api/v1/indexes/api-search/images/{victim}")).StatusCode);
        await AssertProblemAsync(await Http.DeleteAsync($"/api/v1/indexes/api-search/images/{victim}"), HttpStatusCode.NotFound);
        JsonElement after = await SearchAsync(new { query = "red umbrella", k = 10 });
        Assert.DoesNotContain(victim, after.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("imageId").GetString()));
    }

    [Fact]
    public async Task Adding_images_without_an_encoder_says_so()
    {
        await EnsureIndexAsync("api-images");
        var body = new ByteArrayContent([1, 2, 3]);
        body.Headers.ContentType = new("image/png");
        await AssertProblemAsync(await Http.PostAsync("/api/v1/indexes/api-images/images?imageId=a", body), HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task OpenApi_document_and_health_endpoints_are_served()
    {
        using JsonDocument openApi = JsonDocument.Parse(await Http.GetStringAsync("/openapi/v1.json"));
        JsonElement paths = openApi.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/indexes/{name}/search", out _));
        Assert.True(paths.TryGetProperty("/api/v1/indexes", out _));
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health/ready")).StatusCode);
    }

    private async Task<JsonElement> SearchAsync(object request)
    {
        HttpResponseMessage response = await Http.PostAsJsonAsync("/api/v1/indexes/api-search/search", request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }
}
