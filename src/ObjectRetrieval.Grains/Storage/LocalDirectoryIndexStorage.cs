namespace ObjectRetrieval.Grains.Storage;

/// <summary>Index storage in a local directory: the embedded single-process run.</summary>
public sealed class LocalDirectoryIndexStorage : IIndexStorage
{
    public LocalDirectoryIndexStorage(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        Root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Description => $"directory {Root}";

    public async Task<byte[]?> ReadDefinitionAsync(string indexName, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(Root, indexName, StorageNames.Definition);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    public Task WriteDefinitionAsync(string indexName, ReadOnlyMemory<byte> definition, CancellationToken cancellationToken = default) =>
        LocalShardStore.WriteAtomicallyAsync(Path.Combine(Root, indexName, StorageNames.Definition), definition, cancellationToken);

    public IShardStore OpenShard(string shardKey) => new LocalShardStore(Path.Combine(Root, shardKey));

    public Task DeleteIndexAsync(string indexName, CancellationToken cancellationToken = default)
    {
        string directory = Path.Combine(Root, indexName);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    public Task ProbeAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(Root)) throw new DirectoryNotFoundException($"Index storage directory {Root} is gone.");
        return Task.CompletedTask;
    }
}

internal sealed class LocalShardStore(string directory) : IShardStore
{
    public Task<IReadOnlyList<long>> ListSegmentsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(List(StorageNames.TryParseSegment));

    public Task<Stream> OpenSegmentAsync(long generation, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(new FileStream(Path.Combine(directory, StorageNames.Segment(generation)), FileMode.Open, FileAccess.Read, FileShare.Read,
            1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));

    public Task WriteSegmentAsync(long generation, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default) =>
        WriteAtomicallyAsync(Path.Combine(directory, StorageNames.Segment(generation)), write, cancellationToken);

    public Task DeleteSegmentAsync(long generation, CancellationToken cancellationToken = default)
    {
        File.Delete(Path.Combine(directory, StorageNames.Segment(generation)));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<long>> ListLogsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(List(StorageNames.TryParseLog));

    public Task<byte[]> ReadLogAsync(long generation, CancellationToken cancellationToken = default) =>
        File.ReadAllBytesAsync(Path.Combine(directory, StorageNames.Log(generation)), cancellationToken);

    public async Task AppendLogAsync(long generation, ReadOnlyMemory<byte> records, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        await using var stream = new FileStream(Path.Combine(directory, StorageNames.Log(generation)), FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous);
        await stream.WriteAsync(records, cancellationToken).ConfigureAwait(false);

        // The acknowledgement promises survival of a process or machine crash: reach the disk, not the page cache.
        stream.Flush(flushToDisk: true);
    }

    public Task DeleteLogAsync(long generation, CancellationToken cancellationToken = default)
    {
        File.Delete(Path.Combine(directory, StorageNames.Log(generation)));
        return Task.CompletedTask;
    }

    /// <summary>Write to a temporary file, flush, rename: a crash leaves the old file or the new one, never half of it.</summary>
    internal static Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        WriteAtomicallyAsync(path, (stream, cancel) => stream.WriteAsync(data, cancel).AsTask(), cancellationToken);

    /// <summary>As above, the content written by <paramref name="write"/>; if it throws, the temporary file is removed and the old file stays.</summary>
    internal static async Task WriteAtomicallyAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = path + ".tmp";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                // Called before any ConfigureAwait(false): the callback is the caller's code and runs on the caller's context.
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private delegate bool NameParser(string fileName, out long generation);

    private IReadOnlyList<long> List(NameParser parse)
    {
        if (!Directory.Exists(directory)) return [];
        var generations = new List<long>();
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            if (parse(Path.GetFileName(file), out long generation)) generations.Add(generation);
        }

        generations.Sort();
        return generations;
    }
}
