using ObjectRetrieval.Shards.Storage;

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
        LocalShardStore.WriteAtomicallyAsync(
            Path.Combine(Root, indexName, StorageNames.Definition), (stream, cancel) => stream.WriteAsync(definition, cancel).AsTask(), overwrite: true, cancellationToken);

    public Task<IReadOnlyList<string>> ListIndexesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(Directory.EnumerateDirectories(Root)
            .Where(directory => File.Exists(Path.Combine(directory, StorageNames.Definition)))
            .Select(directory => Path.GetFileName(directory))
            .Order(StringComparer.Ordinal)
            .ToArray());

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
