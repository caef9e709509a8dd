using ObjectRetrieval.Abstractions.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Gateway.Security;
using System.Text.Json;

namespace ObjectRetrieval.Gateway.Api;

/// <summary>The small-volume write path: one image at a time, encoded here and upserted into its shard.</summary>
public static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder api)
    {
        // The body limit is the image limit: Kestrel refuses a larger upload (413) while it streams, chunked or not.
        long imageBodyLimit = api.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxImageBytes;
        api.MapPost("/indexes/{name}/images", AddAsync)
            .RequireAuthorization(ApiPolicies.Write)
            .RequireRateLimiting(ApiPolicies.Uploads)
            .WithMetadata(new BodyLimit(imageBodyLimit))
            .WithName("AddImage")
            .WithSummary("Encodes one image and upserts it: the image's bytes as the body (with ?imageId=), or JSON {\"imageId\",\"path\"} naming a file under the gateway's allowed roots.")
            // One Accepts for both forms: routing matches the content type against the last Accepts only.
            .Accepts<ImageReferenceRequest>("application/json", "application/octet-stream", "image/jpeg", "image/png", "image/webp");
        api.MapDelete("/indexes/{name}/images/{imageId}", DeleteAsync).RequireAuthorization(ApiPolicies.Write).WithName("DeleteImage").WithSummary("Deletes one image.");
        api.MapGet("/indexes/{name}/images/{imageId}/content", ContentAsync)
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("GetImageContent")
            .WithSummary("Streams the stored image's source file, when it is a local image file under the gateway's allowed roots (thumbnails of the web page).");
        return api;
    }


    public static async Task<Results<Created<ImageAddedResponse>, ProblemHttpResult>> AddAsync(
        string name, HttpRequest http, IndexCatalog catalog, ShardFanOut fanOut, IOptions<GatewayOptions> options, FileRoots roots, CancellationToken cancellationToken)
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
            ImageReferenceRequest? reference;
            try
            {
                reference = await http.ReadFromJsonAsync<ImageReferenceRequest>(cancellationToken);
            }
            catch (JsonException e)
            {
                return Problems.BadRequest("Malformed JSON", e.Message);
            }

            if (reference?.Path is not { Length: > 0 } path) return Problems.BadRequest("No image", "Name the file in \"path\".");
            if (path.Length > 4096) return Problems.BadRequest("Path too long", $"The path has {path.Length} characters; at most 4096 are allowed.");
            string? file = roots.Resolve(path)?.Path;
            if (file is null || !IsImageFile(file)) return Problems.BadRequest("Path not allowed", "The path is not an image file under a directory this gateway may read.");
            var info = new FileInfo(file);
            if (!info.Exists) return Problems.BadRequest("No such file", "The file does not exist.");
            if (info.Length > maxBytes) return Problems.BadRequest("Image too large", $"The file has {info.Length} bytes; the limit is {maxBytes}.");
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
        if (InputBounds.ImageIdProblem(imageId) is { } idProblem) return Problems.BadRequest("Invalid image id", idProblem);
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
            new ImageAddedResponse(imageId, ShardRouting.ShardKey(index.Name, shard), representation.CentroidCount));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, string imageId, IndexCatalog catalog, ShardFanOut fanOut)
    {
        if (InputBounds.ImageIdProblem(imageId) is { } idProblem) return Problems.BadRequest("Invalid image id", idProblem);
        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        int deleted = await fanOut.DeleteAsync(index, [imageId]);
        return deleted > 0
            ? TypedResults.NoContent()
            : Problems.UnknownImage(name, imageId);
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> ContentAsync(
        string name, string imageId, IndexCatalog catalog, ShardFanOut fanOut, FileRoots roots)
    {
        if (InputBounds.ImageIdProblem(imageId) is { } idProblem) return Problems.BadRequest("Invalid image id", idProblem);
        IndexDefinition? index = await catalog.FindAsync(name);
        if (index is null) return Problems.UnknownIndex(name);
        StoredImage? image = await fanOut.Shard(index, ShardRouting.ShardOf(imageId, index.ShardCount)).GetImageAsync(imageId);
        if (image is null) return Problems.UnknownImage(name, imageId);
        if (LocalPath(image.SourceUri) is not { } path) return Problems.NoContent($"Image '{imageId}' has no local source file.");

        // The stored source names the file, but only image files whose real path (links resolved) lies under the allowed roots are served.
        string? file = roots.Resolve(path)?.Path;
        if (file is null || !IsImageFile(file)) return Problems.NoContent($"The source of image '{imageId}' is not an image file under a directory this gateway may read.");
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

    private static bool IsImageFile(string file) => ContentTypeOf(file) != "application/octet-stream";
}
