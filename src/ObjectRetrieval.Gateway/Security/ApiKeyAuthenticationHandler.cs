using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ObjectRetrieval.Gateway.Security;

/// <summary>
/// Authenticates "Authorization: Bearer KEY" (or "X-Api-Key: KEY") against the hashed keys; answers 401 and 403
/// as problem details.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    public const string KeyHeader = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented = PresentedKey(Request);
        if (presented is null) return Task.FromResult(AuthenticateResult.NoResult());
        ApiKeyEntry? entry = keys.Find(presented);
        if (entry is null) return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));

        var claims = new List<Claim> { new(ClaimTypes.Name, entry.Name) };
        claims.AddRange(ApiRoles.Implied(entry.Role).Select(role => new Claim(ClaimTypes.Role, role)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        bool presented = PresentedKey(Request) is not null;
        return WriteProblemAsync(
            StatusCodes.Status401Unauthorized,
            presented ? "Invalid API key" : "API key required",
            presented
                ? "The API key sent is not one this gateway accepts."
                : $"Send an API key as \"Authorization: Bearer KEY\" or \"{KeyHeader}: KEY\".");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        string role = Context.User.FindAll(ClaimTypes.Role).Select(c => c.Value).MaxBy(ApiRoles.Rank) ?? "none";
        return WriteProblemAsync(
            StatusCodes.Status403Forbidden,
            "Role not allowed",
            $"Key '{Context.User.Identity?.Name}' has role '{role}'; {Context.Request.Method} {Context.Request.Path} needs a stronger one.");
    }

    private Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        return Results.Problem(detail, statusCode: status, title: title).ExecuteAsync(Context);
    }

    /// <summary>The key the request carries, or null when it carries none.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        string? authorization = request.Headers[HeaderNames.Authorization];
        if (authorization is { Length: > 7 } && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }

        string? header = request.Headers[KeyHeader];
        return string.IsNullOrWhiteSpace(header) ? null : header.Trim();
    }
}
