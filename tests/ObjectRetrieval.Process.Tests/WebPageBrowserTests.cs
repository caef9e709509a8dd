using System.Globalization;
using Microsoft.Playwright;

namespace ObjectRetrieval.Process.Tests;

/// <summary>
/// The search page of a real <c>objret demo</c> process in headless Chromium (Debian's /usr/bin/chromium; nothing is
/// downloaded): type a query, get result tiles whose thumbnails carry the matched-region overlay.
/// </summary>
public sealed class WebPageBrowserTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "objret-web-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_query_typed_into_the_page_shows_result_tiles_with_region_overlays()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (apt-get install chromium); the browser test drives it headless.");

        await using ObjretProcess demo = ObjretProcess.Start(["demo", "--data", _data, "--scenes", "40", "--port", "0"]);
        Uri address = await demo.WaitUntilReadyAsync(TimeSpan.FromMinutes(4));

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        IPage page = await browser.NewPageAsync();
        var failedRequests = new List<string>();
        page.RequestFailed += (_, request) => failedRequests.Add(request.Url);

        // The address the demo prints: the key rides in the fragment, which the browser never sends.
        await page.GotoAsync($"{address}#key={demo.ApiKey}");
        await page.FillAsync("#query", "red");
        await page.FillAsync("#k", "12");
        await page.ClickAsync("button[type=submit]");

        // Every tile's thumbnail loads from the content endpoint and is drawn with its overlay.
        await page.WaitForSelectorAsync(".tile[data-drawn]", new() { Timeout = 60_000 });
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.tile')].every(t => t.dataset.drawn)", null, new() { Timeout = 60_000 });
        IReadOnlyList<IElementHandle> tiles = await page.QuerySelectorAllAsync(".tile");
        Assert.Equal(12, tiles.Count);
        string?[] drawn = await Task.WhenAll(tiles.Select(tile => tile.GetAttributeAsync("data-drawn")));
        Assert.All(drawn, state => Assert.Equal("true", state));

        // The matched cluster's patches are shaded: cluster mode with explain gives a non-empty mask for most hits.
        IReadOnlyList<string?> overlays = await Task.WhenAll((await page.QuerySelectorAllAsync(".tile canvas")).Select(c => c.GetAttributeAsync("data-overlay")));
        int withOverlay = overlays.Count(o => o is not null && int.Parse(o, CultureInfo.InvariantCulture) > 0);
        Assert.True(withOverlay > 0, "No result tile shows a matched region.");
        Assert.Contains("images in", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        Assert.Empty(failedRequests);

        // The page dropped the key from the address bar and keeps it in the tab's session only.
        Assert.DoesNotContain("key=", page.Url, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
