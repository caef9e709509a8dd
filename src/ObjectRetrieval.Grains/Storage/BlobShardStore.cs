using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Grains.Storage;

/// <summary>One shard's files under a blob prefix, with every condition as an ETag, If-None-Match or append-position check.</summary>
internal sealed class BlobShardStore(BlobIndexStorage storage, string prefix) : IShardStore
{
    // A block blob has at most 50,000 blocks: 4 MiB blocks allow segments up to about 195 GiB.
    private const int SegmentBlockBytes = 4 << 20;

    private static readonly IAsyncDisposable NoHold = new Nothing();

    private BlobContainerClient Container => storage.Container;

    public int MaxAppendBytes => Container.GetAppendBlobClient(prefix + "x").AppendBlobMaxAppendBlockBytes;

    public string Describe(string name) => $"blob {Container.Name}/{prefix}{name}";

    /// <summary>Blob storage has no hold: ownership is the manifest's epoch and every write's condition.</summary>
    public Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default) => Task.FromResult(NoHold);

    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        await foreach (BlobItem item in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
        {
            string name = item.Name[prefix.Length..];
            if (!name.Contains('/', StringComparison.Ordinal)) names.Add(name);
        }

        return names;
    }

    public async Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default)
    {
        await storage.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Response<BlobDownloadResult> response = await Container.GetBlobClient(prefix + name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return new StoredFile(response.Value.Content.ToArray(), response.Value.Details.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            // Reads ahead one buffer at a time; fails rather than mixing versions if the blob changes under it.
            return await Container.GetBlobClient(prefix + name)
                .OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new FileNotFoundException($"{Describe(name)} is missing.", e);
        }
    }

    public async Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        await storage.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var conditions = expectedVersion is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : new BlobRequestConditions { IfMatch = new ETag(expectedVersion) };
        try
        {
            Response<BlobContentInfo> response = await Container.GetBlobClient(prefix + name)
                .UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (IsConditionFailure(e))
        {
            throw new StorePreconditionException($"{Describe(name)} is not at version {expectedVersion ?? "(absent)"}: {e.ErrorCode}.", e);
        }
    }

    public async Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        // No ConfigureAwait(false) before the callback: it is the caller's code and runs on the caller's context.
        await storage.EnsureContainerAsync(cancellationToken);
        await using var stream = new BlockStagingStream(Container.GetBlockBlobClient(prefix + name), SegmentBlockBytes);
        await write(stream, cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.CommitIfAbsentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (IsConditionFailure(e))
        {
            throw new StorePreconditionException($"{Describe(name)} already exists: {e.ErrorCode}.", e);
        }
    }

    public async Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default)
    {
        await storage.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Response<BlobContentInfo> response = await Container.GetAppendBlobClient(prefix + name).CreateAsync(
                new AppendBlobCreateOptions { Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (IsConditionFailure(e))
        {
            throw new StorePreconditionException($"{Describe(name)} already exists: {e.ErrorCode}.", e);
        }
    }

    public async Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default)
    {
        using var content = new MemoryStream(records.ToArray(), writable: false);
        try
        {
            Response<BlobAppendInfo> response = await Container.GetAppendBlobClient(prefix + name).AppendBlockAsync(content, new AppendBlobAppendBlockOptions
            {
                Conditions = new AppendBlobRequestConditions { IfMatch = new ETag(version), IfAppendPositionEqual = expectedLength },
            }, cancellationToken).ConfigureAwait(false);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (IsConditionFailure(e) || e.Status == 404)
        {
            throw new StorePreconditionException($"Append to {Describe(name)} at byte {expectedLength} refused: {e.ErrorCode}.", e);
        }
    }

    public async Task<string> FenceAsync(string name, CancellationToken cancellationToken = default)
    {
        Response<BlobInfo> response = await Container.GetBlobClient(prefix + name)
            .SetMetadataAsync(new Dictionary<string, string> { ["fenced"] = Guid.NewGuid().ToString("N") }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Value.ETag.ToString();
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        Container.GetBlobClient(prefix + name).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    private static bool IsConditionFailure(RequestFailedException e) => e.Status is 409 or 412;

    private sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
