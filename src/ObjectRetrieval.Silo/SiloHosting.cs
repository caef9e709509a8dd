using System.Net;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Grains;
using ObjectRetrieval.Grains.Storage;
using Orleans.Configuration;

namespace ObjectRetrieval.Silo;

public static class SiloHosting
{
    /// <summary>Index storage as configured: a local directory or a blob container.</summary>
    public static IServiceCollection AddIndexStorage(this IServiceCollection services, StorageSettings storage)
    {
        services.AddSingleton<IIndexStorage>(_ => storage.Kind switch
        {
            StorageKind.Blob => new BlobIndexStorage(new BlobContainerClient(storage.BlobConnectionString, storage.BlobContainer)),
            _ => new LocalDirectoryIndexStorage(storage.Directory!),
        });
        return services;
    }

    /// <summary>Shard settings from "Shards" (seal thresholds, maintenance period).</summary>
    public static IServiceCollection AddShardOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ShardOptions>()
            .Bind(configuration.GetSection(ShardOptions.SectionName))
            .Validate(o => o.MaintenanceInterval > TimeSpan.Zero, $"{ShardOptions.SectionName}:MaintenanceInterval must be positive.")
            .Validate(o => o.SealLogBytes > 0 && o.SealLogRecords > 0, $"{ShardOptions.SectionName}:SealLogBytes and SealLogRecords must be positive.")
            .Validate(o => o.CompactionFanIn >= 2, $"{ShardOptions.SectionName}:CompactionFanIn must be at least 2.")
            .ValidateOnStart();
        return services;
    }

    /// <summary>Membership, ports, role metadata and the index grains' services of one silo.</summary>
    public static ISiloBuilder AddObjectRetrievalSilo(this ISiloBuilder silo, ObjectRetrievalOptions options, IConfiguration configuration)
    {
        ClusterSettings cluster = options.Cluster;
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        if (cluster.Mode == ClusteringMode.AzureTable)
        {
            silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(cluster.AzureTableConnectionString));
            IPAddress advertised = cluster.AdvertisedAddress is { } address ? IPAddress.Parse(address) : IPAddress.Loopback;
            silo.ConfigureEndpoints(advertised, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: cluster.AdvertisedAddress is not null);
        }
        else
        {
            IPEndPoint? primary = cluster.PrimarySiloPort is { } port ? new IPEndPoint(IPAddress.Loopback, port) : null;
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
        }

        // A search is one trace across the gateway and the shards it calls (when tracing is on, see ServiceDefaults).
        silo.AddActivityPropagation();
        silo.UseClusterTls(options.Tls);
        silo.AddSiloRoles(options.Roles);
        silo.Services.AddIndexStorage(options.Storage);
        silo.Services.AddShardOptions(configuration);
        silo.AddObjectRetrievalIngest(configuration, options.Storage);
        return silo;
    }

    /// <summary>A gateway without a silo: an Orleans client of the configured cluster.</summary>
    public static IClientBuilder AddObjectRetrievalClient(this IClientBuilder client, ObjectRetrievalOptions options)
    {
        ClusterSettings cluster = options.Cluster;
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        if (cluster.Mode == ClusteringMode.AzureTable)
        {
            client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(cluster.AzureTableConnectionString));
        }
        else
        {
            client.UseLocalhostClustering(cluster.GatewayPort, cluster.ServiceId, cluster.ClusterId);
        }

        client.AddActivityPropagation();
        client.UseClusterTls(options.Tls);
        return client;
    }

    public static ObjectRetrievalOptions ReadOptions(IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection(ObjectRetrievalOptions.SectionName);
        ObjectRetrievalOptions options = section.Get<ObjectRetrievalOptions>() ?? new ObjectRetrievalOptions();

        // The binder appends configured list items to the default list: configured roles replace the defaults instead.
        if (section.GetSection(nameof(ObjectRetrievalOptions.Roles)).Get<List<string>>() is { } roles) options.Roles = roles;
        IReadOnlyList<string> problems = options.Problems();
        if (problems.Count > 0) throw new OptionsValidationException(ObjectRetrievalOptions.SectionName, typeof(ObjectRetrievalOptions), problems);
        return options;
    }
}
