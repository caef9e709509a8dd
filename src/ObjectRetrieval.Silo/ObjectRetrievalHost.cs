using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Models;
using ObjectRetrieval.Gateway;
using ObjectRetrieval.Grains;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.ServiceDefaults;

namespace ObjectRetrieval.Silo;

/// <summary>
/// One process of the system: a silo when it has the index or encoder role (a client otherwise), with the
/// gateway's HTTP API in the same process when it has the gateway role.
/// </summary>
public static class ObjectRetrievalHost
{
    /// <param name="configure">Runs after the defaults: replaces services (tests, benchmarks) or adds to them.</param>
    public static WebApplication Build(IConfiguration configuration, Action<IServiceCollection>? configure = null)
    {
        ObjectRetrievalOptions options = SiloHosting.ReadOptions(configuration);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "objret" });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.WebHost.UseUrls(options.ManagementPort is { } management
            ? [options.HttpUrl, new UriBuilder(options.HttpUrl) { Port = management }.Uri.ToString().TrimEnd('/')]
            : [options.HttpUrl]);
        builder.Services.AddSingleton(options);

        // Metrics at /metrics and the health endpoints on every process, whatever its roles.
        builder.AddServiceDefaults();

        bool hostsSilo = options.HasRole(SiloRoles.Index) || options.HasRole(SiloRoles.Encoder);
        if (hostsSilo) builder.UseOrleans(silo => silo.AddObjectRetrievalSilo(options, configuration));
        else builder.UseOrleansClient(client => client.AddObjectRetrievalClient(options));

        ModelPackage? model = options.ModelDirectory is { } directory ? ModelPackage.Load(directory) : null;
        if (options.HasRole(SiloRoles.Gateway))
        {
            builder.Services.AddObjectRetrievalGateway(configuration);
            if (model is not null) builder.Services.TryAddSingleton<IQueryEmbedder>(_ => new TextTowerQueryEmbedder(TextEncoder.Create(model)));
        }

        if (options.HasRole(SiloRoles.Encoder) && model is not null)
        {
            builder.Services.TryAddSingleton<IImageEncoderService>(sp => new ImageTowerEncoderService(model, sp.GetRequiredService<ILoggerFactory>()));
        }

        // Readiness: a silo has joined the cluster, an index silo's storage answers, a gateway's grain calls go through (its own check).
        if (hostsSilo)
        {
            builder.Services.AddHealthChecks().AddCheck<SiloMembershipReadyCheck>("silo-membership", tags: [ServiceDefaultsExtensions.ReadyTag]);
        }

        if (options.HasRole(SiloRoles.Index))
        {
            builder.Services.AddHealthChecks().AddCheck<StorageReadyCheck>("index-storage", tags: [ServiceDefaultsExtensions.ReadyTag]);
            builder.Services.AddHealthChecks().AddCheck<ShardsReadyCheck>("index-shards", tags: [ServiceDefaultsExtensions.ReadyTag]);
        }

        configure?.Invoke(builder.Services);
        WebApplication app = builder.Build();
        app.MapServiceDefaults(options.ManagementPort);
        if (options.HasRole(SiloRoles.Gateway))
        {
            app.MapObjectRetrievalGateway();
        }

        return app;
    }

    /// <summary>Where Kestrel listens once started (the configured port may be 0: this is the one it got).</summary>
    public static string ListeningAddress(this WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? app.Services.GetRequiredService<ObjectRetrievalOptions>().HttpUrl;

    /// <summary>
    /// The one line a started process prints, which scripts and test harnesses wait for:
    /// "ready: http://127.0.0.1:5080 roles=index,encoder,gateway".
    /// </summary>
    public static string ReadyLine(this WebApplication app) =>
        $"ready: {app.ListeningAddress()} roles={string.Join(',', app.Services.GetRequiredService<ObjectRetrievalOptions>().Roles.Select(r => r.ToLowerInvariant()))}";

    /// <summary>
    /// Starts the process, prints <see cref="ReadyLine"/>, and runs until Ctrl+C or SIGTERM (the host's console
    /// lifetime turns either into a graceful stop: the silo leaves the cluster, shards deactivate, Kestrel drains).
    /// </summary>
    public static async Task RunUntilStoppedAsync(this WebApplication app, TextWriter output)
    {
        await app.StartAsync().ConfigureAwait(false);
        await app.ServeUntilStoppedAsync(output).ConfigureAwait(false);
    }

    /// <summary>The second half of <see cref="RunUntilStoppedAsync"/>, for callers that do work between starting and serving.</summary>
    public static async Task ServeUntilStoppedAsync(this WebApplication app, TextWriter output)
    {
        if (!app.Lifetime.ApplicationStopping.IsCancellationRequested)
        {
            await output.WriteLineAsync(app.ReadyLine()).ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
        }

        await app.WaitForShutdownAsync().ConfigureAwait(false);
    }
}

/// <summary>Not ready while a shard on this silo refuses to start over damaged stored data: the message names the file and offset.</summary>
internal sealed class ShardsReadyCheck : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<string, string> refused = ShardMetrics.Refused;
        return Task.FromResult(refused.Count == 0
            ? HealthCheckResult.Healthy("No shard on this silo refuses to start.")
            : HealthCheckResult.Unhealthy(string.Join(" ", refused.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value}"))));
    }
}

/// <summary>Ready only while the shards' storage answers.</summary>
internal sealed class StorageReadyCheck(IIndexStorage storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await storage.ProbeAsync(cancellationToken);
            return HealthCheckResult.Healthy(storage.Description);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"Index storage ({storage.Description}) does not answer.", e);
        }
    }
}

/// <summary>Ready once this silo is an active member of the cluster (it joined, and is not shutting down).</summary>
internal sealed class SiloMembershipReadyCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        SiloStatus status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"Silo {silo.SiloAddress} is active in cluster {silo.ClusterId}.")
            : HealthCheckResult.Unhealthy($"Silo {silo.SiloAddress} is {status} in cluster {silo.ClusterId}, not Active."));
    }
}
