using ObjectRetrieval.Abstractions.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Gateway.Api;
using ObjectRetrieval.Gateway.Security;
using Microsoft.Extensions.Options;
using ObjectRetrieval.ServiceDefaults;

namespace ObjectRetrieval.Gateway;

public static class GatewayServices
{
    /// <summary>
    /// The gateway's services; the process must also provide an <see cref="IGrainFactory"/> (a silo or an
    /// Orleans client) and an <see cref="IQueryEmbedder"/>, and may provide an <see cref="IImageEncoderService"/>.
    /// </summary>
    public static IServiceCollection AddObjectRetrievalGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton(sp => new FileRoots(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.FileRoots));
        services.AddGatewaySecurity();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IndexCatalog>();
        services.AddSingleton<ShardFanOut>();
        services.AddSingleton<QueryEmbeddingCache>();
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddHealthChecks().AddCheck<ClusterReadyCheck>("cluster", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return services;
    }

    /// <summary>
    /// /api/v1 endpoints, /openapi/v1.json and the search page at /. Health and /metrics come from
    /// <see cref="ServiceDefaultsExtensions.MapServiceDefaults{TEndpoints}"/>, as on every process. Every endpoint
    /// needs an API key (the page itself is static and asks for one), each group the role its policy names.
    /// </summary>
    public static WebApplication MapObjectRetrievalGateway(this WebApplication app)
    {
        // Problem details for every error: exceptions, and bodies that do not bind (malformed JSON).
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseGatewaySecurity();
        RouteGroupBuilder api = app.MapGroup("/api/v1");
        api.MapIndexesApi();
        api.MapSearchApi();
        api.MapImagesApi();
        api.MapIngestApi();
        app.MapOpenApi().RequireAuthorization(ApiPolicies.Read);
        app.MapWebPage();
        return app;
    }
}

/// <summary>Ready when a grain call goes through the cluster and back: membership joined and placement working.</summary>
internal sealed class ClusterReadyCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.GetGrain<IIndexGrain>("health-probe").GetDefinitionAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy("Grain calls answer.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("Grain calls do not answer.", e);
        }
    }
}
