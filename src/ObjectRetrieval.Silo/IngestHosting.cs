using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Grains.Ingest;

namespace ObjectRetrieval.Silo;

/// <summary>Ingest's services on a silo: job state storage, sources, the per-silo throttle and the encoder seam.</summary>
public static class IngestHosting
{
    /// <summary>Container of the jobs' grain state when it is kept in blob storage.</summary>
    public const string StateContainer = "objret-ingest-state";

    /// <summary>
    /// Job state goes to blob storage when <c>Ingest:StateConnectionString</c> or a blob index storage names an
    /// account (it then survives a restart of the whole cluster), and to silo memory otherwise (the embedded run).
    /// </summary>
    public static ISiloBuilder AddObjectRetrievalIngest(this ISiloBuilder silo, IConfiguration configuration, StorageSettings storage)
    {
        string? stateAccount = configuration[$"{IngestSettings.SectionName}:StateConnectionString"]
            ?? (storage.Kind == StorageKind.Blob ? storage.BlobConnectionString : null);
        if (stateAccount is { Length: > 0 })
        {
            silo.AddAzureBlobGrainStorage(IngestNames.StorageProvider, o =>
            {
                o.BlobServiceClient = new BlobServiceClient(stateAccount);
                o.ContainerName = StateContainer;
            });
        }
        else
        {
            silo.AddMemoryGrainStorage(IngestNames.StorageProvider);
        }

        silo.Services.AddIngestServices(configuration);
        silo.AddStartupTask(async (services, cancellationToken) =>
        {
            // Jobs that were running when the cluster stopped go on: every silo wakes them; waking is idempotent.
            try
            {
                await services.GetRequiredService<IGrainFactory>().GetGrain<IIngestJobRegistryGrain>(IIngestJobRegistryGrain.Key).WakeAllAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IngestHosting)).LogWarning(e, "Could not wake unfinished ingest jobs; they resume when next called.");
            }
        });
        return silo;
    }

    public static IServiceCollection AddIngestServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestSettings>()
            .Bind(configuration.GetSection(IngestSettings.SectionName))
            .Validate(o => o.Problems().Count == 0, $"{IngestSettings.SectionName} settings are invalid: check LeaseDuration, TickInterval, WorkersPerJob, MaxBatchesPerSilo, MaxPendingBatches, MaxImagesInFlight, ImageTimeout, PoisonAttempts.")
            .ValidateOnStart();
        services.TryAddSingleton<IngestSourceReader>();
        services.TryAddSingleton<IngestSiloThrottle>();
        services.TryAddSingleton<IngestBatchProcessor>();
        services.TryAddSingleton<IIngestImageEncoder>(sp => sp.GetService<IImageEncoderService>() is ImageTowerEncoderService tower
            ? new SharedIngestImageEncoder(tower)
            : throw new InvalidOperationException("Ingest workers run only on encoder silos with a model (ObjectRetrieval:ModelDirectory)."));
        return services;
    }
}

/// <summary>Ingest's view of the silo's shared batching encoder: keeps the source version in the metadata and the refusal reason typed.</summary>
public sealed class SharedIngestImageEncoder(ImageTowerEncoderService tower) : IIngestImageEncoder
{
    public int Dimension => tower.Dimension;

    public async Task<ImageRepresentation> EncodeAsync(IngestImage image, AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var source = ImageSource.FromBytes(image.ImageId, image.Bytes) with { SourceUri = image.SourceUri, Metadata = image.Metadata };
        try
        {
            return await tower.EncoderFor(aggregation, keepDensePatches).EncodeAsync(source, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageDecodeException e)
        {
            throw new ImageRejectedException(e.Reason.ToString(), e.Message, e);
        }
    }
}
