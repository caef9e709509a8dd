using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Gateway.Api;

/// <summary>The small-volume write path: one image at a time, encoded here and upserted into its shard.</summary>
public static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/indexes/{name}/images", AddAsync)
            .WithName("AddImage")
            .WithSummary("Encodes one image and upserts it: the image's bytes as the body (with ?imageId=), or JSON {\"imageId\",\"path\"} naming a file under the gateway's allowed roots.")
            // One Accepts for both forms: routing matches the content type against the last Accepts only.
            .Accepts<ImageReferenceRequest>("application/json", "application/octet-stream", "image/jpeg", "image/png", "image/webp");
        api.MapDelete("/indexes/{name}/images/{imageId}", DeleteAsync).WithName("DeleteImage").WithSummary("Deletes one image.");
        api.MapGet("/indexes/{name}/images/{imageId}/content", ContentAsync)
            .WithName("GetImageContent")
            .WithSummary("Streams the stored image's source file, when it is a local file under the gateway's allowed roots (thumbnails of the web page).");
        return api;
    }

    public static async Task<Results<Created<ImageAddedResponse>, ProblemHttpResult>> AddAsync(
        string name, HttpRequest http, IndexCatalog catalog, ShardFanOut fanOut, IOptions<GatewayOptions> options, CancellationToken cancellationToken)
    {
        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        IImageEncoderService? encoder = http.HttpContext.RequestServices.GetService<IImageEncoderService>();
        if (encoder is null) return Problems.Unavailable("This gateway has no image encoder; add images through a process with the encoder role.");
        if (encoder.Model != index.Model) return Problems.BadRequest("Model mismatch", $"Index '{name}' holds model '{index.Model}'; this encoder runs '{encoder.Model}'.");

        long maxBytes = options.Value.MaxImageBytes;
        string? imageId;
        string? sourceUri = null;
        byte[] bytes;
        if (http.HasJsonContentType())
        {
            ImageReferenceRequest? reference = await http.ReadFromJsonAsync<ImageReferenceRequest>(cancellationToken);
            if (reference?.Path is not { Length: > 0 } path) return Problems.BadRequest("No image", "Name the file in \"path\".");
            string? file = AllowedFile(path, options.Value.FileRoots);
            if (file is null) return Problems.BadRequest("Path not allowed", $"'{path}' is not under a directory this gateway may read.");
            var info = new FileInfo(file);
            if (!info.Exists) return Problems.BadRequest("No such file", $"'{path}' does not exist.");
            if (info.Length > maxBytes) return Problems.BadRequest("Image too large", $"'{path}' has {info.Length} bytes; the limit is {maxBytes}.");
            bytes = await File.ReadAllBytesAsync(file, cancellationToken);
            imageId = reference.ImageId ?? Path.GetFileNameWithoutExtension(file);
            sourceUri = file;
        }
        else
        {
            imageId = http.Query["imageId"];
            if (http.ContentLength > maxBytes) return Problems.BadRequest("Image too large", $"The body has {http.ContentLength} bytes; the limit is {maxBytes}.");
            using var body = new MemoryStream();
            await http.Body.CopyToAsync(body, cancellationToken);
            if (body.Length > maxBytes) return Problems.BadRequest("Image too large", $"The limit is {maxBytes} bytes.");
            bytes = body.ToArray();
            sourceUri = http.Query["sourceUri"];
        }

        if (string.IsNullOrWhiteSpace(imageId)) return Problems.BadRequest("No image id", "Give the image's id (?imageId= for uploads).");
        if (bytes.Length == 0) return Problems.BadRequest("Empty image", "The image has no bytes.");

        ImageRepresentation representation;
        try
        {
            representation = await encoder.EncodeAsync(imageId, bytes, sourceUri, index.AggregationSettings, index.KeepDense, cancellationToken);
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest("Unusable image", e.Message);
        }

        await fanOut.UpsertAsync(index, [EncodedImage.From(representation)]);
        int shard = ShardRouting.ShardOf(imageId, index.ShardCount);
        return TypedResults.Created(
            $"/api/v1/indexes/{name}/images/{Uri.EscapeDataString(imageId)}",
            new ImageAddedResponse(imageId, ShardRouting.ShardKey(index.Name, shard), representation.CentroidCount, sourceUri));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, string imageId, IndexCatalog catalog, ShardFanOut fanOut)
    {
        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        int deleted = await fanOut.DeleteAsync(index, [imageId]);
        return deleted > 0
            ? TypedResults.NoContent()
            : Problems.UnknownImage(name, imageId);
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> ContentAsync(
        string name, string imageId, IndexCatalog catalog, ShardFanOut fanOut, IOptions<GatewayOptions> options)
    {
        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        StoredImage? image = await fanOut.Shard(index, ShardRouting.ShardOf(imageId, index.ShardCount)).GetImageAsync(imageId);
        if (image is null) return Problems.UnknownImage(name, imageId);
        if (LocalPath(image.SourceUri) is not { } path) return Problems.NoContent($"Image '{imageId}' has no local source file (source: '{image.SourceUri}').");

        // The stored source names the file, but only files under the allowed roots are ever served.
        string? file = AllowedFile(path, options.Value.FileRoots);
        if (file is null) return Problems.NoContent($"The source of image '{imageId}' is not under a directory this gateway may read.");
        if (!File.Exists(file)) return Problems.NoContent($"The source file of image '{imageId}' is gone.");
        return TypedResults.PhysicalFile(file, ContentTypeOf(file), enableRangeProcessing: true);
    }

    /// <summary>A file-system path from a stored source: an absolute path or a file:// URI; null for anything else (blobs, http).</summary>
    private static string? LocalPath(string? sourceUri)
    {
        if (string.IsNullOrEmpty(sourceUri)) return null;
        if (Path.IsPathFullyQualified(sourceUri)) return sourceUri;
        return Uri.TryCreate(sourceUri, UriKind.Absolute, out Uri? uri) && uri.IsFile ? uri.LocalPath : null;
    }

    private static string ContentTypeOf(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" => "image/jpeg",
        ".png" => "image/png",
        ".webp" => "image/webp",
        ".gif" => "image/gif",
        ".bmp" => "image/bmp",
        _ => "application/octet-stream",
    };

    /// <summary>The full path when it lies inside one of the roots (after resolving "..").</summary>
    private static string? AllowedFile(string path, IEnumerable<string> roots)
    {
        string full = Path.GetFullPath(path);
        foreach (string root in roots)
        {
            string fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
            if (full.StartsWith(fullRoot, StringComparison.Ordinal)) return full;
        }

        return null;
    }
}
