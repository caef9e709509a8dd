using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Abstractions.Security;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>One page of a listing; <see cref="NextCursor"/> is null after the last page.</summary>
public sealed record SourcePage(IReadOnlyList<IngestItem> Items, string? NextCursor);

/// <summary>
/// An image that exists in the listing but whose bytes cannot or may not be read (deleted since, no access, a link
/// leading outside the job's directory). <see cref="Reason"/> is the failure reason recorded for it.
/// </summary>
public sealed class SourceReadException(string reason, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The failure reason of a listed file whose real path (links resolved) lies outside the job's directory.</summary>
    public const string OutsideRootReason = "OutsideRoot";

    public const string UnreadableReason = "Unreadable";

    public string Reason { get; } = reason;
}

/// <summary>
/// Lists and reads the images of a source. Blob containers are listed page by page with the service's
/// continuation tokens; directories page by the last relative path returned (ordinal order), so neither
/// ever holds more than a page of names.
/// </summary>
public sealed class IngestSourceReader(IOptions<IngestSettings> settings)
{
    private readonly Lazy<BlobServiceClient?> _blobs = new(() =>
        settings.Value.BlobConnectionString is { Length: > 0 } connection ? new BlobServiceClient(connection) : null);

    public async Task CheckAsync(IngestSource source, CancellationToken cancellationToken = default)
    {
        if (source.Kind == IngestSourceKind.Directory)
        {
            if (!Directory.Exists(source.Location)) throw new ArgumentException($"Directory '{source.Location}' does not exist on the silo that runs the job.");
            return;
        }

        BlobContainerClient container = Container(source);
        if (!(await container.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
        {
            throw new ArgumentException($"Container '{source.Location}' does not exist in account '{container.AccountName}'.");
        }
    }

    public async Task<SourcePage> ListAsync(IngestSource source, string? cursor, int pageSize, CancellationToken cancellationToken = default) =>
        source.Kind == IngestSourceKind.Directory
            ? ListDirectory(source.Location, cursor, pageSize)
            : await ListBlobsAsync(source, cursor, pageSize, cancellationToken).ConfigureAwait(false);

    public string ImageIdOf(IngestSource source, IngestItem item) => source.Kind == IngestSourceKind.Directory
        ? IngestNames.FileImageId(item.Name)
        : IngestNames.BlobImageId(Blobs.AccountName, source.Location, item.Name);

    public string UriOf(IngestSource source, IngestItem item) => source.Kind == IngestSourceKind.Directory
        ? Path.Combine(source.Location, item.Name)
        : Container(source).GetBlobClient(item.Name).Uri.ToString();

    public async Task<byte[]> ReadAsync(IngestSource source, IngestItem item, CancellationToken cancellationToken = default)
    {
        try
        {
            if (source.Kind == IngestSourceKind.Directory)
            {
                // The gateway checked the directory's real path against its roots; each file is held to the directory
                // itself, links resolved, so a link inside it that leads anywhere else is never read.
                if (new FileRoots([source.Location]).Resolve(Path.Combine(source.Location, item.Name)) is not { } inside)
                {
                    throw new SourceReadException(SourceReadException.OutsideRootReason, $"'{item.Name}' leads outside the job's directory (links resolved); it was not read.");
                }

                return await File.ReadAllBytesAsync(inside.Path, cancellationToken).ConfigureAwait(false);
            }

            BlobDownloadResult result = (await Container(source).GetBlobClient(item.Name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            return result.Content.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or RequestFailedException)
        {
            // The exception's own message names the file's local path or the blob's URL: only its kind is reported.
            throw new SourceReadException(SourceReadException.UnreadableReason, $"'{item.Name}' cannot be read ({e.GetType().Name}).", e);
        }
    }

    private BlobServiceClient Blobs => _blobs.Value
        ?? throw new ArgumentException($"This cluster reads no blob account: set {IngestSettings.SectionName}:BlobConnectionString on its silos.");

    private BlobContainerClient Container(IngestSource source) => Blobs.GetBlobContainerClient(source.Location);

    private async Task<SourcePage> ListBlobsAsync(IngestSource source, string? cursor, int pageSize, CancellationToken cancellationToken)
    {
        var options = new GetBlobsOptions { Prefix = source.Prefix };
        await foreach (Page<BlobItem> page in Container(source).GetBlobsAsync(options, cancellationToken).AsPages(cursor, pageSize).ConfigureAwait(false))
        {
            var items = page.Values
                .Select(b => new IngestItem(b.Name, b.Properties.ETag?.ToString() ?? string.Empty, b.Properties.ContentLength ?? 0))
                .ToArray();

            // The last page carries an empty token, not a null one.
            return new SourcePage(items, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }

        return new SourcePage([], null);
    }

    private static SourcePage ListDirectory(string root, string? after, int pageSize)
    {
        // The smallest pageSize relative paths after the cursor, kept in a bounded max-heap.
        var heap = new PriorityQueue<string, string>(pageSize + 1, Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        foreach (string path in Directory.EnumerateFiles(root, "*", options))
        {
            string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (after is not null && string.CompareOrdinal(relative, after) <= 0) continue;
            if (heap.Count == pageSize)
            {
                if (string.CompareOrdinal(relative, heap.Peek()) >= 0) continue;
                heap.Dequeue();
            }

            heap.Enqueue(relative, relative);
        }

        var names = new List<string>(heap.Count);
        while (heap.Count > 0) names.Add(heap.Dequeue());
        names.Reverse();
        var items = names.Select(name =>
        {
            var info = new FileInfo(Path.Combine(root, name));
            string version = string.Create(CultureInfo.InvariantCulture, $"{info.Length}-{info.LastWriteTimeUtc.Ticks}");
            return new IngestItem(name, version, info.Length);
        }).ToArray();
        return new SourcePage(items, items.Length == pageSize ? items[^1].Name : null);
    }
}
