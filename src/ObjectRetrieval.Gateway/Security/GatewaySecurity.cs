using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ObjectRetrieval.ServiceDefaults;

namespace ObjectRetrieval.Gateway.Security;

/// <summary>Authorization policies of the API's endpoint groups, one per role.</summary>
public static class ApiPolicies
{
    public const string Read = "read";

    public const string Write = "write";

    public const string Admin = "admin";

    /// <summary>Rate-limiter policy of image uploads: bounded concurrency on top of the per-key rate.</summary>
    public const string Uploads = "uploads";
}

/// <summary>The largest request body an endpoint takes; endpoints without it take <see cref="GatewayOptions.MaxJsonBodyBytes"/>.</summary>
public sealed record BodyLimit(long Bytes);

/// <summary>API keys, roles, per-key rate limits, admission and body limits of the gateway.</summary>
public static class GatewaySecurity
{
    public static IServiceCollection AddGatewaySecurity(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            GatewayOptions options = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new ApiKeyStore(options.AllApiKeys());
        });
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);

        // Anything not given a policy still needs a key: a new endpoint is closed until someone opens it.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build())
            .AddPolicy(ApiPolicies.Read, p => p.RequireRole(ApiRoles.Reader))
            .AddPolicy(ApiPolicies.Write, p => p.RequireRole(ApiRoles.Writer))
            .AddPolicy(ApiPolicies.Admin, p => p.RequireRole(ApiRoles.Admin));

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<GatewayOptions>>((limiter, gateway) =>
        {
            RateLimitSettings rate = gateway.Value.RateLimit;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (ServiceDefaultsExtensions.IsOperationalPath(context.Request.Path)) return RateLimitPartition.GetNoLimiter("operational");

                // Per key once authenticated; per client address before (which also slows down guessing keys).
                string partition = context.User.Identity is { IsAuthenticated: true, Name: { } name }
                    ? "key:" + name
                    : "address:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = rate.Burst,
                    TokensPerPeriod = rate.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.AddConcurrencyLimiter(ApiPolicies.Uploads, o =>
            {
                o.PermitLimit = rate.ConcurrentUploads;
                o.QueueLimit = rate.QueuedUploads;
                o.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            limiter.OnRejected = (context, cancellationToken) =>
            {
                TimeSpan retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan after) ? after : TimeSpan.FromSeconds(1);
                return new ValueTask(WriteOverloadAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, retry, "Too many requests",
                    "This key sends requests faster than the gateway admits, or too many uploads run at once; retry after the delay given."));
            };
        });
        services.AddExceptionHandler<GatewayExceptionHandler>();
        return services;
    }

    /// <summary>Authentication, authorization, rate limits and per-endpoint body limits, in that order.</summary>
    public static WebApplication UseGatewaySecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        long defaultLimit = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxJsonBodyBytes;
        app.Use((context, next) =>
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
            {
                body.MaxRequestBodySize = context.GetEndpoint()?.Metadata.GetMetadata<BodyLimit>()?.Bytes ?? defaultLimit;
            }

            return next(context);
        });
        return app;
    }

    /// <summary>429 or 503 as problem details, with Retry-After in whole seconds (at least one).</summary>
    public static Task WriteOverloadAsync(HttpContext context, int status, TimeSpan retryAfter, string title, string detail)
    {
        int seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = status;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Results.Problem(detail, statusCode: status, title: title).ExecuteAsync(context);
    }
}
