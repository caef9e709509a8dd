using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectRetrieval.Abstractions;
using SkiaSharp;

namespace ObjectRetrieval.Cluster.Tests.Security;

/// <summary>The gateway under attack: every case answers a 4xx problem (or a 429/503 with Retry-After), never a 5xx or a leak.</summary>
[Collection(SecurityCollection.Name)]
public sealed class HostileInputTests(SecurityFixture fixture)
{
    private const string Index = SecurityFixture.ImagesIndex;

    /// <summary>Every route of the API with the weakest role allowed on it (null: anyone, which only health and the page are).</summary>
    public static TheoryData<string, string, string> Routes => new()
    {
        { "POST", "/api/v1/indexes", "admin" },
        { "DELETE", "/api/v1/indexes/no-such-index-to-delete", "admin" },
        { "GET", $"/api/v1/indexes/{Index}", "reader" },
        { "POST", $"/api/v1/indexes/{Index}/search", "reader" },
        { "POST", $"/api/v1/indexes/{Index}/images", "writer" },
        { "DELETE", $"/api/v1/indexes/{Index}/images/never-stored", "writer" },
        { "GET", $"/api/v1/indexes/{Index}/images/plain/content", "reader" },
        { "POST", $"/api/v1/indexes/{Index}/ingest-jobs", "writer" },
        { "GET", "/api/v1/ingest-jobs/some-job", "writer" },
        { "GET", "/api/v1/ingest-jobs/some-job/failures", "writer" },
        { "POST", "/api/v1/ingest-jobs/some-job/cancel", "writer" },
        { "POST", "/api/v1/ingest-jobs/some-job/pause", "writer" },
        { "POST", "/api/v1/ingest-jobs/some-job/resume", "writer" },
        { "GET", "/openapi/v1.json", "reader" },
        { "GET", "/api/v1/no-such-route", "reader" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Anonymous_calls_and_unknown_keys_get_a_401_problem_on_every_route(string method, string path, string _)
    {
        using HttpClient anonymous = fixture.Client(null);
        using HttpResponseMessage response = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonBody("{}") });
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);

        using HttpClient wrong = fixture.Client("objret_not-a-key-this-gateway-knows");
        await AssertProblemAsync(await wrong.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonBody("{}") }), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_key_whose_role_is_too_weak_gets_a_403_problem_and_a_strong_enough_one_gets_past(string method, string path, string weakest)
    {
        foreach ((string role, string key) in new[] { ("reader", TestApiKeys.Reader), ("writer", TestApiKeys.Writer), ("admin", TestApiKeys.Admin) })
        {
            using HttpClient http = fixture.Client(key);
            using HttpResponseMessage response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonBody("{}") });
            bool allowed = Rank(role) >= Rank(weakest);
            if (allowed)
            {
                Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)response.StatusCode < 500,
                    $"{role} on {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            else
            {
                await AssertProblemAsync(response, HttpStatusCode.Forbidden);
            }
        }
    }

    [Fact]
    public async Task Health_probes_and_the_static_page_answer_without_a_key_and_the_page_holds_no_data()
    {
        using HttpClient anonymous = fixture.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
        string page = await anonymous.GetStringAsync("/");
        Assert.Contains("API key", page, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Allowed, page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_admin_keys_are_valid_at_once_so_keys_rotate_without_downtime()
    {
        foreach (string key in new[] { TestApiKeys.Admin, TestApiKeys.RotatedAdmin })
        {
            using HttpClient http = fixture.Client(key);
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/api/v1/indexes", new { name = SecurityFixture.SearchIndex, shards = 2, clusters = TestData.Clusters })).StatusCode);
        }
    }

    [Fact]
    public async Task Ingest_of_etc_is_refused_with_the_reason()
    {
        using HttpResponseMessage response = await StartIngestAsync(new { directory = "/etc", extensions = new[] { ".png" } });
        string detail = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("not under a root", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_climbing_out_of_a_root_with_dotdot_is_refused()
    {
        await AssertProblemAsync(await StartIngestAsync(new { directory = fixture.Allowed + "/../outside" }), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await StartIngestAsync(new { directory = fixture.Allowed + "/../../../../../etc" }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Ingest_of_a_symlinked_directory_under_a_root_that_leads_outside_is_refused()
    {
        await AssertProblemAsync(await StartIngestAsync(new { directory = Path.Combine(fixture.Allowed, "etc") }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Ingest_of_an_allowed_root_reached_through_a_symlink_passes_the_allow_list()
    {
        // The root is configured as a link: its real path is allowed, so the job starts (and finds one image).
        using HttpResponseMessage response = await StartIngestAsync(new { directory = fixture.LinkedRoot, jobId = "sec-linked-root" });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, body);
        Assert.DoesNotContain(fixture.LinkedRoot, body, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_of_a_container_or_prefix_outside_the_allow_list_is_refused()
    {
        await AssertProblemAsync(await StartIngestAsync(new { container = "private" }), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await StartIngestAsync(new { container = SecurityFixture.AllowedContainer }), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await StartIngestAsync(new { container = SecurityFixture.AllowedContainer, prefix = "other/" }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Ingest_of_non_image_extensions_or_above_the_max_bytes_cap_is_refused()
    {
        string detail = await AssertProblemAsync(await StartIngestAsync(new { directory = fixture.Allowed, extensions = new[] { ".conf" }, maxBytes = 1 }), HttpStatusCode.BadRequest);
        Assert.Contains(".conf", detail, StringComparison.Ordinal);
        await AssertProblemAsync(await StartIngestAsync(new { directory = fixture.Allowed, maxBytes = long.MaxValue }), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("through-link")]
    [InlineData("through-linked-directory")]
    [InlineData("text-file")]
    [InlineData("dotdot")]
    [InlineData("outside")]
    public async Task Content_requests_are_refused_for_sources_through_symlinks_outside_roots_or_not_images(string imageId)
    {
        using HttpClient reader = fixture.Client(TestApiKeys.Reader);
        string detail = await AssertProblemAsync(await reader.GetAsync($"/api/v1/indexes/{Index}/images/{imageId}/content"), HttpStatusCode.NotFound);
        Assert.DoesNotContain(fixture.Allowed, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("/etc", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Content_of_an_image_under_a_root_is_served_by_its_opaque_id()
    {
        using HttpClient reader = fixture.Client(TestApiKeys.Reader);
        using HttpResponseMessage response = await reader.GetAsync($"/api/v1/indexes/{Index}/images/plain/content");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(fixture.Allowed, "scene.png")), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Adding_by_path_through_a_symlink_out_of_a_root_is_refused_without_echoing_the_path()
    {
        using HttpClient writer = fixture.Client(TestApiKeys.Writer);
        foreach (string path in new[] { Path.Combine(fixture.Allowed, "escape.png"), Path.Combine(fixture.Allowed, "etc", "hostname"), fixture.Allowed + "/../outside/secret.png" })
        {
            string detail = await AssertProblemAsync(await writer.PostAsJsonAsync($"/api/v1/indexes/{Index}/images", new { imageId = "sneaky", path }), HttpStatusCode.BadRequest);
            Assert.DoesNotContain(fixture.Outside, detail, StringComparison.Ordinal);
        }

        // Through the linked root, the same call is fine: the answer names the image by id and shard alone.
        using HttpResponseMessage added = await writer.PostAsJsonAsync($"/api/v1/indexes/{Index}/images", new { imageId = "via-linked-root", path = Path.Combine(fixture.LinkedRoot, "linked.png") });
        string body = await added.Content.ReadAsStringAsync();
        Assert.True(added.StatusCode == HttpStatusCode.Created, body);
        Assert.DoesNotContain("/", JsonDocument.Parse(body).RootElement.EnumerateObject().Where(p => p.Name != "shard").Select(p => p.Value.ToString()).Aggregate(string.Empty, string.Concat), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_one_megabyte_id_and_ids_with_control_characters_are_refused()
    {
        using HttpClient writer = fixture.Client(TestApiKeys.Writer);
        string huge = new('x', 1 << 20);
        // Kestrel refuses a 1 MB request line (414), or closes the connection while it is still being sent.
        int inQuery = await RefusalAsync(TestApiKeys.Writer, () =>
            new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{Index}/images?imageId={huge}") { Content = Upload(SecurityFixture.Png(8, 8, SKColors.White)) });
        Assert.True(inQuery is Closed or (>= 400 and < 500), $"1 MB id in the query: {inQuery}");
        using HttpResponseMessage inJson = await writer.PostAsJsonAsync($"/api/v1/indexes/{Index}/images", new { imageId = new string('y', 300_000), path = Path.Combine(fixture.Allowed, "scene.png") });
        Assert.True((int)inJson.StatusCode is 400 or 413, $"300 kB id in JSON: {(int)inJson.StatusCode}");
        foreach (string id in new[] { "a\u0001b", "line\nbreak", "tab\there", "\u007f" })
        {
            await AssertProblemAsync(await writer.PostAsync($"/api/v1/indexes/{Index}/images?imageId={Uri.EscapeDataString(id)}", Upload(SecurityFixture.Png(8, 8, SKColors.White))), HttpStatusCode.BadRequest);
            await AssertProblemAsync(await writer.DeleteAsync($"/api/v1/indexes/{Index}/images/{Uri.EscapeDataString(id)}"), HttpStatusCode.BadRequest);
        }

        await AssertProblemAsync(await writer.DeleteAsync($"/api/v1/indexes/{Index}/images/{new string('z', 300)}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Oversized_bodies_are_refused_whether_declared_or_chunked()
    {
        byte[] big = new byte[SecurityFixture.MaxImageBytes + 1];

        // Declared too large: refused before the body is read (with Expect: 100-continue, before it is even sent).
        int declared = await RefusalAsync(TestApiKeys.Writer, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{Index}/images?imageId=big") { Content = Upload(big) };
            request.Headers.ExpectContinue = true;
            return request;
        });
        Assert.True(declared is 400 or 413, $"declared: {declared}");

        // No Content-Length: Kestrel counts the chunks and stops at the limit.
        int chunked = await RefusalAsync(TestApiKeys.Writer, () =>
        {
            var content = new StreamContent(new MemoryStream(big));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{Index}/images?imageId=big-chunked") { Content = content };
            request.Headers.TransferEncodingChunked = true;
            return request;
        });
        Assert.True(chunked is 413 or Closed, $"chunked: {chunked}");

        // JSON endpoints take far less than an image.
        string query = "{\"query\":\"" + new string('q', 200_000) + "\"}";
        int json = await RefusalAsync(TestApiKeys.Reader, () => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{SecurityFixture.SearchIndex}/search") { Content = JsonBody(query) });
        Assert.True(json is 413 or Closed, $"json: {json}");

        // Whichever way the refusal came, the gateway goes on serving.
        using HttpClient reader = fixture.Client(TestApiKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/health/live")).StatusCode);
    }

    /// <summary>Status of a refused over-limit request, or <see cref="Closed"/> when Kestrel answered by closing the connection mid-upload.</summary>
    private async Task<int> RefusalAsync(string key, Func<HttpRequestMessage> request)
    {
        using HttpClient http = fixture.Client(key);
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request());
            if ((int)response.StatusCode is 400 or 413 && response.Content.Headers.ContentType?.MediaType is not null) await AssertProblemAsync(response, response.StatusCode);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException e) when (e.InnerException is HttpIOException or IOException)
        {
            return Closed;
        }
    }

    private const int Closed = 0;

    [Theory]
    [InlineData("POST", "/api/v1/indexes")]
    [InlineData("POST", "/api/v1/indexes/sec-search/search")]
    [InlineData("POST", "/api/v1/indexes/sec-images/images")]
    [InlineData("POST", "/api/v1/indexes/sec-images/ingest-jobs")]
    public async Task Malformed_json_is_a_400_problem_on_every_json_endpoint(string method, string path)
    {
        using HttpClient admin = fixture.Client(TestApiKeys.Admin);
        foreach (string body in new[] { "{\"name\":", "[1,2", "{\"query\":\"cat\",\"k\":\"many\"}", "\u0000\u0001", "{\"shards\":1e999}" })
        {
            await AssertProblemAsync(await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonBody(body) }), HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task Two_hundred_concurrent_uploads_answer_created_or_429_and_none_fails()
    {
        using HttpClient writer = fixture.Client(TestApiKeys.Writer);
        byte[] png = SecurityFixture.Png(96, 96, SKColors.Teal);
        HttpResponseMessage[] answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            writer.PostAsync($"/api/v1/indexes/{Index}/images?imageId=concurrent-{i}", Upload(png))));
        var counts = answers.GroupBy(a => (int)a.StatusCode).ToDictionary(g => g.Key, g => g.Count());
        string summary = string.Join(", ", counts.Select(c => $"{c.Key}×{c.Value}"));
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.TooManyRequests, summary));
        Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests), a => Assert.NotNull(a.Headers.RetryAfter));
        Assert.True(counts.GetValueOrDefault(201) >= 16, $"Fewer uploads got through than run at once: {summary}");
    }

    [Fact]
    public async Task Sixty_four_pixel_bomb_pngs_at_once_stay_within_the_pixel_budget()
    {
        // 3000 × 3000 of one colour: about 30 kB on the wire, 36 MB once decoded; the budget holds two at a time.
        byte[] bomb = SecurityFixture.Png(3000, 3000, SKColors.Gold);
        Assert.True(bomb.Length < 100_000);
        using HttpClient writer = fixture.Client(TestApiKeys.Writer);
        HttpResponseMessage[] answers = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            writer.PostAsync($"/api/v1/indexes/{Index}/images?imageId=bomb-{i}", Upload(bomb))));
        string summary = string.Join(", ", answers.GroupBy(a => (int)a.StatusCode).Select(g => $"{g.Key}×{g.Count()}"));
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.TooManyRequests, summary));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.True(fixture.Budget.PeakInUse <= fixture.Budget.Capacity, $"peak {fixture.Budget.PeakInUse} pixels over a budget of {fixture.Budget.Capacity}");
        Assert.True(fixture.Budget.PeakInUse >= 9_000_000, $"peak {fixture.Budget.PeakInUse}: the bombs were not decoded under the budget");
        Assert.Equal(0, fixture.Budget.InUse);
    }

    public static TheoryData<string, string> OutOfBoundSearches => new()
    {
        { "k zero", """{"query":"cat","k":0}""" },
        { "k over 1000", """{"query":"cat","k":1001}""" },
        { "k beyond int", """{"query":"cat","k":99999999999}""" },
        { "nprobe zero", """{"query":"cat","nprobe":0}""" },
        { "nprobe over 4096", """{"query":"cat","nprobe":5000}""" },
        { "query over 1000 characters", $$"""{"query":"{{new string('a', 1001)}}"}""" },
        { "query of whitespace", """{"query":"  \t "}""" },
    };

    [Theory]
    [MemberData(nameof(OutOfBoundSearches))]
    public async Task Search_bounds_on_k_nprobe_and_query_length_are_enforced(string _, string body)
    {
        using HttpClient reader = fixture.Client(TestApiKeys.Reader);
        await AssertProblemAsync(await reader.PostAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}/search", JsonBody(body)), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_index_beyond_the_shard_or_ivf_quota_is_refused()
    {
        using HttpClient admin = fixture.Client(TestApiKeys.Admin);
        string detail = await AssertProblemAsync(await admin.PostAsJsonAsync("/api/v1/indexes", new { name = "sec-huge", shards = 4096 }), HttpStatusCode.BadRequest);
        Assert.Contains("MaxShardsPerIndex", detail, StringComparison.Ordinal);
        detail = await AssertProblemAsync(await admin.PostAsJsonAsync("/api/v1/indexes", new { name = "sec-lists", shards = 2, ivf = new { listCount = 1_000_000 } }), HttpStatusCode.BadRequest);
        Assert.Contains("MaxIvfLists", detail, StringComparison.Ordinal);
        Assert.Null(await fixture.Handle.Client.GetGrain<IIndexGrain>("sec-huge").GetDefinitionAsync());
    }

    [Fact]
    public async Task Creating_an_index_beyond_the_cluster_quota_is_a_409_naming_the_setting_and_deleting_one_frees_a_slot()
    {
        IReadOnlyList<string> existing = await fixture.Handle.Client.GetGrain<IIndexCatalogGrain>(IIndexCatalogGrain.Key).ListAsync();
        var quota = new Dictionary<string, string?> { ["Gateway:Quotas:MaxIndexes"] = (existing.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using TestGateway gateway = await TestGateway.StartAsync(fixture.Handle.Client, TimeSpan.FromSeconds(10), quota);
        HttpClient admin = gateway.Http;
        var first = new { name = "sec-quota-a", shards = 2, clusters = TestData.Clusters };
        var second = new { name = "sec-quota-b", shards = 2, clusters = TestData.Clusters };

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/indexes", first)).StatusCode);
        string detail = await AssertProblemAsync(await admin.PostAsJsonAsync("/api/v1/indexes", second), HttpStatusCode.Conflict);
        Assert.Contains("Gateway:Quotas:MaxIndexes", detail, StringComparison.Ordinal);
        Assert.Null(await fixture.Handle.Client.GetGrain<IIndexGrain>("sec-quota-b").GetDefinitionAsync());

        // Creating an existing index again is idempotent and takes no slot; deleting one frees its slot.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/v1/indexes", first)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/indexes/sec-quota-a")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/indexes", second)).StatusCode);
        Assert.Equal(existing.Count + 1, (await fixture.Handle.Client.GetGrain<IIndexCatalogGrain>(IIndexCatalogGrain.Key).ListAsync()).Count);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/indexes/sec-quota-b")).StatusCode);
    }

    [Fact]
    public async Task Deleting_an_index_needs_admin_and_frees_its_shards_storage_and_definition()
    {
        using HttpClient admin = fixture.Client(TestApiKeys.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/indexes", new { name = "sec-deleted", shards = 3, clusters = TestData.Clusters })).StatusCode);
        IndexDefinition index = (await fixture.Handle.Client.GetGrain<IIndexGrain>("sec-deleted").GetDefinitionAsync())!;
        Assert.Equal(12, await fixture.Gateway.FanOut.UpsertAsync(index, TestData.Images(12, seed: 77).Select(EncodedImage.From).ToArray()));
        string directory = Path.Combine(fixture.StorageDirectory, "sec-deleted");
        Assert.True(Directory.Exists(directory));

        using HttpClient writer = fixture.Client(TestApiKeys.Writer);
        await AssertProblemAsync(await writer.DeleteAsync("/api/v1/indexes/sec-deleted"), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/indexes/sec-deleted")).StatusCode);

        Assert.False(Directory.Exists(directory), "The index's storage is still there.");
        Assert.Null(await fixture.Handle.Client.GetGrain<IIndexGrain>("sec-deleted").GetDefinitionAsync());
        await AssertProblemAsync(await admin.GetAsync("/api/v1/indexes/sec-deleted"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await admin.DeleteAsync("/api/v1/indexes/sec-deleted"), HttpStatusCode.NotFound);

        // The name is free again, and the new index starts empty.
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/indexes", new { name = "sec-deleted", shards = 2, clusters = TestData.Clusters })).StatusCode);
        JsonElement stats = await admin.GetFromJsonAsync<JsonElement>("/api/v1/indexes/sec-deleted");
        Assert.Equal(0, stats.GetProperty("images").GetInt32());
    }

    [Fact]
    public async Task Search_hits_carry_no_path_or_storage_url()
    {
        using HttpClient reader = fixture.Client(TestApiKeys.Reader);
        using HttpResponseMessage response = await reader.PostAsJsonAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}/search", new { query = "anything", k = 40, explain = true });
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("file:", body, StringComparison.Ordinal);
        Assert.DoesNotContain("sourceUri", body, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> StartIngestAsync(object request)
    {
        using HttpClient writer = fixture.Client(TestApiKeys.Writer);
        return await writer.PostAsJsonAsync($"/api/v1/indexes/{Index}/ingest-jobs", request);
    }

    private static int Rank(string role) => role switch { "reader" => 0, "writer" => 1, _ => 2 };

    internal static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    internal static ByteArrayContent Upload(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    /// <summary>Asserts a problem-details answer with the status; returns its detail.</summary>
    internal static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(body);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        return problem.RootElement.TryGetProperty("detail", out JsonElement detail) ? detail.GetString() ?? string.Empty : string.Empty;
    }
}
