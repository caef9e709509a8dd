namespace ObjectRetrieval.Shards.Storage;

/// <summary>A file's content and the version it was read at (an ETag in a blob container).</summary>
public sealed record StoredFile(byte[] Content, string Version);

/// <summary>A conditional write found the file not as expected: another writer changed it, or it already exists.</summary>
public sealed class StorePreconditionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The files of one shard (a folder, or a blob prefix), with the conditions fencing needs. Every write that can
/// race another writer is conditional and throws <see cref="StorePreconditionException"/> when the condition fails;
/// the engine never overwrites a file it did not read first.
/// </summary>
public interface IShardStore
{
    /// <summary>Where a file lives, for error messages ("directory /data/idx/shard-001, file wal-…").</summary>
    string Describe(string name);

    /// <summary>The most bytes one append may carry; the engine splits larger batches on record boundaries.</summary>
    int MaxAppendBytes { get; }

    /// <summary>
    /// Takes this store's exclusive hold, if it has one (an exclusive lock file on local disk), for as long as the
    /// result is not disposed; throws <see cref="StorePreconditionException"/> when another writer holds it.
    /// </summary>
    Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default);

    /// <summary>Names of the shard's files, in no particular order.</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>The whole file and its version, or null when it does not exist.</summary>
    Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Streams a file from its start (segments may be larger than memory).</summary>
    Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a small file atomically if it is still at <paramref name="expectedVersion"/>, or creates it if
    /// <paramref name="expectedVersion"/> is null and it does not exist; returns the new version.
    /// </summary>
    Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a file from what <paramref name="write"/> writes, atomically (readers see all of it or none) and only
    /// if it does not exist. If <paramref name="write"/> throws, the file is not created.
    /// </summary>
    Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default);

    /// <summary>Creates an empty log only if it does not exist; returns its version.</summary>
    Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends to a log if it is exactly <paramref name="expectedLength"/> long and still at <paramref name="version"/>;
    /// returns only once the bytes are durable, with the log's new version.
    /// </summary>
    Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default);

    /// <summary>Changes a log's version without changing its content, so that a writer holding the old version can append no more.</summary>
    Task<string> FenceAsync(string name, CancellationToken cancellationToken = default);

    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}
