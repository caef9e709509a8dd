using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ObjectRetrieval.Grains.Storage;

/// <summary>
/// Index storage in an Azure Blob Storage container: segments are block blobs (written block by block,
/// then committed all at once, so a segment is never half there), logs are append blobs (each appended
/// block is atomic and durable when the call returns).
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
        return await BlobShardStore.ReadIfExistsAsync(container.GetBlobClient($"{indexName}/{StorageNames.Definition}"), cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteDefinitionAsync(string indexName, ReadOnlyMemory<byte> definition, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await container.GetBlobClient($"{indexName}/{StorageNames.Definition}")
            .UploadAsync(BinaryData.FromBytes(definition), overwrite: true, cancellationToken).ConfigureAwait(false);
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

internal sealed class BlobShardStore(BlobIndexStorage storage, string prefix) : IShardStore
{
    // A block blob has at most 50,000 blocks: 4 MiB blocks allow segments up to about 195 GiB.
    private const int SegmentBlockBytes = 4 << 20;

    // Logs this instance has already created, so appends skip the create call.
    private readonly HashSet<long> _createdLogs = [];

    private BlobContainerClient Container => storage.Container;

    public Task<IReadOnlyList<long>> ListSegmentsAsync(CancellationToken cancellationToken = default) =>
        ListAsync(StorageNames.TryParseSegment, cancellationToken);

    public async Task<Stream> OpenSegmentAsync(long generation, CancellationToken cancellationToken = default)
    {
        try
        {
            // Reads ahead one buffer at a time; fails rather than mixing versions if the blob changes under it.
            return await Container.GetBlobClient(prefix + StorageNames.Segment(generation))
                .OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new FileNotFoundException($"Segment {prefix}{StorageNames.Segment(generation)} is missing.", e);
        }
    }

    public async Task WriteSegmentAsync(long generation, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        // No ConfigureAwait(false) before the callback: it is the caller's code (a grain's) and runs on the caller's context.
        await storage.EnsureContainerAsync(cancellationToken);
        await using var stream = new BlockStagingStream(Container.GetBlockBlobClient(prefix + StorageNames.Segment(generation)), SegmentBlockBytes);
        await write(stream, cancellationToken).ConfigureAwait(false);
        await stream.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteSegmentAsync(long generation, CancellationToken cancellationToken = default) =>
        Container.GetBlobClient(prefix + StorageNames.Segment(generation)).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    public Task<IReadOnlyList<long>> ListLogsAsync(CancellationToken cancellationToken = default) =>
        ListAsync(StorageNames.TryParseLog, cancellationToken);

    public async Task<byte[]> ReadLogAsync(long generation, CancellationToken cancellationToken = default) =>
        await ReadIfExistsAsync(Container.GetBlobClient(prefix + StorageNames.Log(generation)), cancellationToken).ConfigureAwait(false) ?? [];

    public async Task AppendLogAsync(long generation, ReadOnlyMemory<byte> records, CancellationToken cancellationToken = default)
    {
        await storage.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        AppendBlobClient log = Container.GetAppendBlobClient(prefix + StorageNames.Log(generation));
        if (_createdLogs.Add(generation))
        {
            await log.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // One append block has a size limit; larger batches go in several blocks. A crash between
        // blocks leaves a torn last record, which replay detects by its checksum.
        int maxBlock = log.AppendBlobMaxAppendBlockBytes;
        for (int offset = 0; offset < records.Length; offset += maxBlock)
        {
            ReadOnlyMemory<byte> block = records.Slice(offset, Math.Min(maxBlock, records.Length - offset));
            using var stream = new MemoryStream(block.ToArray(), writable: false);
            await log.AppendBlockAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    public Task DeleteLogAsync(long generation, CancellationToken cancellationToken = default)
    {
        _createdLogs.Remove(generation);
        return Container.GetBlobClient(prefix + StorageNames.Log(generation)).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    internal static async Task<byte[]?> ReadIfExistsAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobDownloadResult> response = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return response.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private delegate bool NameParser(string fileName, out long generation);

    private async Task<IReadOnlyList<long>> ListAsync(NameParser parse, CancellationToken cancellationToken)
    {
        await storage.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var generations = new List<long>();
        await foreach (BlobItem item in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
        {
            string name = item.Name[prefix.Length..];
            if (!name.Contains('/', StringComparison.Ordinal) && parse(name, out long generation)) generations.Add(generation);
        }

        generations.Sort();
        return generations;
    }
}
