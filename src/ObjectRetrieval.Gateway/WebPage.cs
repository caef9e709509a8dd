using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace ObjectRetrieval.Gateway;

/// <summary>The search page at "/": one self-contained HTML file (no external scripts or fonts), embedded in the assembly.</summary>
public static class WebPage
{
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using Stream stream = typeof(WebPage).Assembly.GetManifestResourceStream("ObjectRetrieval.Gateway.Web.index.html")
            ?? throw new InvalidOperationException("The web page is not embedded in the gateway assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static IEndpointRouteBuilder MapWebPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Bytes(Page.Value, "text/html; charset=utf-8"))
            .WithName("WebPage")
            .WithSummary("The search page: query box, result grid with thumbnails and matched-region overlays.")
            .ExcludeFromDescription()

            // Static HTML with no data in it: the browser cannot send a key when it navigates; the page's own calls do.
            .AllowAnonymous();
        return app;
    }
}
