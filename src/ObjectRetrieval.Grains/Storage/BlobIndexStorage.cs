using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Grains.Storage;

/// <summary>
/// Index storage in an Azure Blob Storage container: segments are block blobs (staged, then committed all at once
/// and only if absent, so a segment is never half there nor overwritten), logs are append blobs (each appended block
/// is atomic, durable when the call returns, and conditional on the log's ETag and length), the manifest is replaced
/// with If-Match on its ETag.
/// </summary>
public sealed class BlobIndexStorage(BlobContainerClient container) : IIndexStorage
{
    private int _containerReady;

    public string Description => $"blob container {container.Name} at {container.Uri.GetLeftPart(UriPartial.Authority)}";

    public BlobContainerClient Container => container;

    public async Task EnsureContainerAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _containerReady) != 0) return;
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _containerReady, 1);
    }

    public async Task<byte[]?> ReadDefinitionAsync(string indexName, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Response<BlobDownloadResult> response = await container.GetBlobClient($"{indexName}/{StorageNames.Definition}").DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return response.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task WriteDefinitionAsync(string indexName, ReadOnlyMemory<byte> definition, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await container.GetBlobClient($"{indexName}/{StorageNames.Definition}")
            .UploadAsync(BinaryData.FromBytes(definition), overwrite: true, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> ListIndexesAsync(CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        await foreach (BlobHierarchyItem item in container.GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
        {
            if (!item.IsPrefix) continue;
            string name = item.Prefix.TrimEnd('/');
            if ((await container.GetBlobClient($"{name}/{StorageNames.Definition}").ExistsAsync(cancellationToken).ConfigureAwait(false)).Value) names.Add(name);
        }

        return names;
    }

    public IShardStore OpenShard(string shardKey) => new BlobShardStore(this, shardKey + "/");

    public async Task DeleteIndexAsync(string indexName, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await foreach (Azure.Storage.Blobs.Models.BlobItem blob in container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = indexName + "/" }, cancellationToken).ConfigureAwait(false))
        {
            await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await container.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
