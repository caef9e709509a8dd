using System.Globalization;
using System.IO.Hashing;

namespace ObjectRetrieval.Shards.Storage;

/// <summary>
/// A shard's files in a local folder. The owner holds <see cref="ShardFileNames.OwnerLock"/> open exclusively
/// (an advisory lock the kernel drops when the process dies), so a second process on the same folder is refused;
/// under that lock the conditions reduce to checks of length and content.
/// </summary>
public sealed class LocalShardStore(string directory) : IShardStore
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public int MaxAppendBytes => int.MaxValue;

    public string Describe(string name) => Path.Combine(Directory, name);

    public Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = Path.Combine(Directory, ShardFileNames.OwnerLock);
        try
        {
            return Task.FromResult<IAsyncDisposable>(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new StorePreconditionException($"Shard folder {Directory} is held by another writer ({path} is locked).", e);
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default)
    {
        if (!System.IO.Directory.Exists(Directory)) return Task.FromResult<IReadOnlyList<string>>([]);
        return Task.FromResult<IReadOnlyList<string>>(System.IO.Directory.EnumerateFiles(Directory).Select(Path.GetFileName).OfType<string>().ToArray());
    }

    public async Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(Directory, name);
        if (!File.Exists(path)) return null;
        byte[] content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return new StoredFile(content, VersionOf(content));
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(new FileStream(Path.Combine(Directory, name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
            FileOptions.Asynchronous | FileOptions.SequentialScan));

    public async Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        StoredFile? current = await ReadAsync(name, cancellationToken).ConfigureAwait(false);
        if (current?.Version != expectedVersion)
        {
            throw new StorePreconditionException($"{Describe(name)} is at version {current?.Version ?? "(absent)"}, not {expectedVersion ?? "(absent)"}.");
        }

        await WriteAtomicallyAsync(Path.Combine(Directory, name), (stream, cancel) => stream.WriteAsync(content, cancel).AsTask(), overwrite: true, cancellationToken).ConfigureAwait(false);
        return VersionOf(content.Span);
    }

    public Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default) =>
        WriteAtomicallyAsync(Path.Combine(Directory, name), write, overwrite: false, cancellationToken);

    public Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default)
    {
        System.IO.Directory.CreateDirectory(Directory);
        try
        {
            using var stream = new FileStream(Path.Combine(Directory, name), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e) when (File.Exists(Path.Combine(Directory, name)))
        {
            throw new StorePreconditionException($"{Describe(name)} already exists.", e);
        }

        return Task.FromResult(LengthVersion(0));
    }

    public async Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(Directory, name);
        if (!File.Exists(path)) throw new StorePreconditionException($"{Describe(name)} is gone.");
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous);
        if (stream.Length != expectedLength) throw new StorePreconditionException($"{Describe(name)} is {stream.Length} bytes long, not {expectedLength}.");
        stream.Seek(0, SeekOrigin.End);
        await stream.WriteAsync(records, cancellationToken).ConfigureAwait(false);

        // The acknowledgement promises survival of a process or machine crash: reach the disk, not the page cache.
        stream.Flush(flushToDisk: true);
        return LengthVersion(stream.Length);
    }

    public Task<string> FenceAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(LengthVersion(new FileInfo(Path.Combine(Directory, name)).Length));

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        File.Delete(Path.Combine(Directory, name));
        return Task.CompletedTask;
    }

    private const string TemporarySuffix = ".tmp";

    /// <summary>Write to a temporary file, flush, rename: a crash leaves the old file or the new one, never half of it.</summary>
    public static async Task WriteAtomicallyAsync(string path, Func<Stream, CancellationToken, Task> write, bool overwrite, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!overwrite && File.Exists(path)) throw new StorePreconditionException($"{path} already exists.");

        // Unique per writer, so two writers never share a temporary file.
        string temporary = $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                // Called before any ConfigureAwait(false): the callback is the caller's code and runs on the caller's context.
                await write(stream, cancellationToken);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, path, overwrite);
            }
            catch (IOException e) when (!overwrite && File.Exists(path))
            {
                throw new StorePreconditionException($"{path} already exists.", e);
            }
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    // Logs are versioned by length (appends are the only change); small files by their content.
    private static string LengthVersion(long length) => "len:" + length.ToString(CultureInfo.InvariantCulture);

    private static string VersionOf(ReadOnlySpan<byte> content) =>
        content.Length.ToString(CultureInfo.InvariantCulture) + ":" + Crc64.HashToUInt64(content).ToString("x16", CultureInfo.InvariantCulture);
}
