using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SkiaSharp;
using Xunit.Abstractions;

namespace ObjectRetrieval.Cluster.Tests.Security;

/// <summary>
/// Seeded random requests, valid and invalid, against every route of a real gateway on loopback: none may answer
/// 5xx, and the process must be healthy afterwards. The count is a parameter: OBJRET_FUZZ_REQUESTS (default
/// <see cref="DefaultRequests"/> to keep the suite lean; the issue's run used 20,000), OBJRET_FUZZ_SEED (default 14).
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class HttpFuzzTests(SecurityFixture fixture, ITestOutputHelper output)
{
    public const int DefaultRequests = 2_000;

    private const int Concurrency = 16;

    private static readonly string[] Keys = [TestApiKeys.Reader, TestApiKeys.Writer, TestApiKeys.Admin, TestApiKeys.RotatedAdmin];

    [Fact]
    public async Task Thousands_of_generated_requests_get_no_5xx_and_leave_the_gateway_healthy()
    {
        int requests = Setting("OBJRET_FUZZ_REQUESTS", DefaultRequests);
        int seed = Setting("OBJRET_FUZZ_SEED", 14);
        using HttpClient admin = fixture.Client(TestApiKeys.Admin);
        (await admin.PostAsJsonAsync("/api/v1/indexes", new { name = "fz-images", shards = 2, clusters = TestData.Clusters, model = DecodingTestEncoder.ModelName, dimension = TestData.Dimension })).EnsureSuccessStatusCode();

        var statuses = new ConcurrentDictionary<int, int>();
        var serverErrors = new ConcurrentQueue<string>();
        byte[] png = SecurityFixture.Png(48, 48, SKColors.Crimson);
        using var http = new HttpClient { BaseAddress = fixture.Address, Timeout = TimeSpan.FromSeconds(60) };
        int next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var random = new Random(HashCode.Combine(seed, i));
                using HttpRequestMessage request = Generate(random, png);
                string described = $"{request.Method} {request.RequestUri}";
                int status;
                try
                {
                    using HttpResponseMessage response = await http.SendAsync(request);
                    status = (int)response.StatusCode;
                    if (status >= 500) serverErrors.Enqueue($"{status} {Shorten(described)}: {Shorten(await response.Content.ReadAsStringAsync())}");
                }
                catch (HttpRequestException e)
                {
                    // Kestrel may close a connection on a request it refuses outright (a malformed request line); that is not a 5xx.
                    status = 0;
                    if (e.InnerException is not IOException) serverErrors.Enqueue($"transport {Shorten(described)}: {e.Message}");
                }

                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            }
        }));
        clock.Stop();

        string table = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{(s.Key == 0 ? "closed" : s.Key.ToString(CultureInfo.InvariantCulture))}: {s.Value}"));
        output.WriteLine($"fuzz: {requests} requests, seed {seed}, {Concurrency} at a time, {clock.Elapsed.TotalSeconds:F1} s; statuses {table}; 5xx {serverErrors.Count}");
        Assert.True(serverErrors.IsEmpty, string.Join(Environment.NewLine, serverErrors.Take(20)));
        Assert.Equal(requests, statuses.Values.Sum());

        // Healthy after: probes pass, and a plain search still answers.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        using HttpClient reader = fixture.Client(TestApiKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, (await reader.PostAsJsonAsync($"/api/v1/indexes/{SecurityFixture.SearchIndex}/search", new { query = "after the fuzz", k = 5 })).StatusCode);
    }

    private HttpRequestMessage Generate(Random r, byte[] png)
    {
        string index = Pick(r, SecurityFixture.SearchIndex, SecurityFixture.SearchIndex, SecurityFixture.SearchIndex, SecurityFixture.SearchIndex, "fz-images", "fz-images", "fz-images", "fz-new-" + r.Next(3), "no-such-index", "UPPER", "..", "%2e%2e", new string('i', r.Next(60, 400)), "ü-index", "a%00b");
        string writable = index.StartsWith("fz-", StringComparison.Ordinal) || !index.StartsWith("sec-", StringComparison.Ordinal) ? index : "fz-images";
        string id = RandomId(r);
        string job = Pick(r, "fz-job-" + r.Next(3), "no-such-job", RandomId(r), "..%2f..%2fetc", new string('j', 70));
        HttpRequestMessage request = r.Next(12) switch
        {
            0 => new HttpRequestMessage(HttpMethod.Post, "/api/v1/indexes") { Content = Json(r, CreateIndexBody(r)) },
            1 => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/indexes/{index}"),
            2 or 3 => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{index}/search") { Content = Json(r, SearchBody(r)) },
            4 => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{writable}/images?imageId={id}") { Content = Bytes(r, png) },
            5 => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{writable}/images") { Content = Json(r, $$"""{"imageId":"{{Pick(r, "ref", id)}}","path":"{{Pick(r, fixture.Allowed + "/scene.png", "/etc/passwd", fixture.Allowed + "/escape.png", fixture.Allowed + "/../outside/secret.png", "relative.png", fixture.Allowed + "/etc/hostname")}}"}""") },
            6 => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/indexes/{writable}/images/{id}"),
            7 => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/indexes/{Pick(r, index, SecurityFixture.ImagesIndex)}/images/{Pick(r, id, "plain", "through-link", "text-file", "outside")}/content"),
            8 => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/indexes/{writable}/ingest-jobs") { Content = Json(r, IngestBody(r)) },
            9 => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/ingest-jobs/{job}{Pick(r, "", "/failures", $"/failures?offset={r.Next(-5, 50)}&limit={r.Next(-5, 2000)}")}"),
            10 => r.Next(4) == 0
                ? new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/indexes/{Pick(r, "fz-new-" + r.Next(3), "no-such-index", "..", new string('d', 300))}")
                : new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ingest-jobs/{job}/{Pick(r, "cancel", "pause", "resume", "explode")}"),
            _ => new HttpRequestMessage(new HttpMethod(Pick(r, "GET", "PUT", "PATCH", "OPTIONS", "HEAD", "DELETE")), Pick(r, "/", "/openapi/v1.json", "/api/v1", "/api/v1/indexes", $"/api/v1/indexes/{index}/nothing", "/metrics/../api/v1/indexes", "/%00")),
        };

        // Mostly a valid key; sometimes none, a wrong one, or a malformed header.
        switch (r.Next(20))
        {
            case 0 or 1:
                break;
            case 2:
                request.Headers.TryAddWithoutValidation("Authorization", Pick(r, "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer " + new string('k', 5000), "bearer\tobjret_x"));
                break;
            case 3:
                request.Headers.TryAddWithoutValidation("X-Api-Key", Pick(r, "objret_wrong", "", TestApiKeys.Writer + "x"));
                break;
            default:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Keys[r.Next(Keys.Length)]);
                break;
        }

        return request;
    }

    private static string CreateIndexBody(Random r) => Pick(r,
        $$"""{"name":"fz-new-{{r.Next(3)}}","shards":{{r.Next(-2, 6)}},"clusters":{{Pick(r, "4", "0", "-1", "100000")}},"codec":"{{Pick(r, "int8", "float16", "float32", "int3", "")}}"}""",
        $$"""{"name":"fz-new-{{r.Next(3)}}","shards":{{Pick(r, "4096", "2147483647", "1e3", "null", "\"8\"")}}}""",
        $$$"""{"name":"fz-ivf","shards":2,"ivf":{"listCount":{{{Pick(r, "16", "0", "99999999")}}},"nProbe":{{{Pick(r, "4", "-1", "100000")}}},"trainAtVectors":{{{Pick(r, "1", "0", "100")}}}}}""",
        $$"""{"name":{{Pick(r, "null", "\"\"", "\"Bad Name!\"", "\"" + new string('n', 200) + "\"", "123")}}}""");

    private static string SearchBody(Random r) => r.Next(3) > 0
        ? $$"""{"query":"{{Pick(r, "red", "blue umbrella", "a person on a scooter")}}","k":{{r.Next(1, 60)}},"mode":"{{Pick(r, "cluster", "global")}}","explain":{{Pick(r, "true", "false")}}}"""
        : Pick(r,
        $$"""{"query":"{{Pick(r, "red", "a person on a scooter", "", "   ", new string('q', r.Next(990, 1010)), "\\u0000\\u0007", "日本語", "\\ud800")}}","k":{{Pick(r, "10", "1", "1000", "0", "-1", "1001", "99999999999", "1.5", "null")}},"mode":"{{Pick(r, "cluster", "global", "dense", "sparkly", "")}}","explain":{{Pick(r, "true", "false", "\"yes\"")}}{{Pick(r, "", ",\"nprobe\":4", ",\"nprobe\":0", ",\"nprobe\":100000")}}}""",
        """{"query":"cat","k":""",
        "[" + string.Concat(Enumerable.Repeat("[", r.Next(10, 200))),
        "{\"query\":" + string.Concat(Enumerable.Repeat("{\"a\":", 80)) + "1" + new string('}', 81),
        "null",
        "\"just a string\"");

    private string IngestBody(Random r) => Pick(r,
        $$"""{"directory":"{{Pick(r, "/etc", fixture.Allowed, fixture.Allowed + "/..", fixture.Allowed + "/etc", fixture.LinkedRoot, "relative/dir", "/proc/self")}}","extensions":{{Pick(r, "null", "[\".png\"]", "[\".conf\"]", "[]", "[\"png\",\"jpg\"]")}},"maxBytes":{{Pick(r, "1", "1000000", "0", "-1", "9223372036854775807")}},"batchSize":{{Pick(r, "64", "256", "8", "100000")}},"jobId":"fz-job-{{r.Next(3)}}"}""",
        $$"""{"container":"{{Pick(r, SecurityFixture.AllowedContainer, "private", "")}}","prefix":"{{Pick(r, SecurityFixture.AllowedPrefix, "other/", "")}}"}""",
        """{"container":"a","directory":"/b"}""",
        """{"jobId":"has spaces","container":"public","prefix":"shared/"}""",
        "{");

    private static HttpContent Json(Random r, string json)
    {
        // Now and then the body is cut short, or sent with the wrong content type.
        if (r.Next(8) == 0) json = json[..r.Next(json.Length + 1)];
        var content = new StringContent(json, System.Text.Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(r.Next(10) > 0 ? "application/json" : Pick(r, "text/plain", "application/octet-stream"));
        return content;
    }

    private static HttpContent Bytes(Random r, byte[] png)
    {
        byte[] body = r.Next(4) switch
        {
            0 => png,
            1 => png[..r.Next(png.Length)],
            2 => RandomBytes(r, r.Next(0, 4096)),
            _ => [.. png[..16], .. RandomBytes(r, 512)],
        };
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(Pick(r, "application/octet-stream", "image/png", "image/jpeg", "application/json", "text/html"));
        return content;
    }

    private static string RandomId(Random r) => r.Next(6) switch
    {
        0 => Uri.EscapeDataString(new string('x', r.Next(200, 2000))),
        1 => Uri.EscapeDataString("ctl\u0001\u001f"),
        2 => "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        3 => Uri.EscapeDataString("emoji-😀-" + r.Next()),
        _ => "fz-" + r.Next(100).ToString(CultureInfo.InvariantCulture),
    };

    private static byte[] RandomBytes(Random r, int length)
    {
        byte[] bytes = new byte[length];
        r.NextBytes(bytes);
        return bytes;
    }

    private static T Pick<T>(Random r, params T[] options) => options[r.Next(options.Length)];

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;
}
