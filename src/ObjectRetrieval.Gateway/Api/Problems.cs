using Microsoft.AspNetCore.Http.HttpResults;

namespace ObjectRetrieval.Gateway.Api;

/// <summary>RFC 7807 answers for bad input, one wording per case.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title);

    public static ProblemHttpResult UnknownIndex(string name) =>
        TypedResults.Problem($"There is no index named '{name}'.", statusCode: StatusCodes.Status404NotFound, title: "Unknown index");

    public static ProblemHttpResult UnknownImage(string index, string imageId) =>
        TypedResults.Problem($"Index '{index}' holds no image '{imageId}'.", statusCode: StatusCodes.Status404NotFound, title: "Unknown image");

    public static ProblemHttpResult NoContent(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Image content not available");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Index exists with another definition");

    public static ProblemHttpResult QuotaExceeded(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Quota exceeded");

    /// <summary>The cluster already holds as many of something as allowed: a state to change (delete one), not a request to fix.</summary>
    public static ProblemHttpResult QuotaReached(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Quota reached");

    public static ProblemHttpResult SourceNotAllowed(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Source not allowed");

    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not available on this gateway");
}
