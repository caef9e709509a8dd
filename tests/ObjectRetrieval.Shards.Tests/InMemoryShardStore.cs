using System.Globalization;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Shards.Tests;

/// <summary>What a store call is about to do, for fault injection.</summary>
public enum StoreOperation
{
    Read,
    OpenRead,
    Replace,
    Create,
    CreateLog,
    Append,
    Fence,
    Delete,
}

/// <summary>How an injected fault strikes a call.</summary>
public enum StoreFault
{
    None,

    /// <summary>The call fails and changes nothing.</summary>
    FailBefore,

    /// <summary>The call takes effect but its answer is lost (throws afterwards).</summary>
    FailAfter,

    /// <summary>An append writes only its first half, then fails (a crash or a full disk mid-write).</summary>
    TornAppend,
}

/// <summary>
/// A shard store in memory with blob semantics — versions like ETags, conditional replace, create-if-absent, appends
/// conditional on length and version, fencing that changes a version — plus injected faults and a count of bytes written.
/// Thread-safe. Its files outlive any engine that used it, so dropping an engine without disposing it is a crash.
/// </summary>
public sealed class InMemoryShardStore : IShardStore
{
    private readonly Dictionary<string, (byte[] Content, long Version)> _files = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _versions;

    /// <summary>Decides a fault per call; null means none.</summary>
    public Func<StoreOperation, string, StoreFault>? Faults { get; set; }

    /// <summary>Runs before a call's effect, outside the store's lock (to block a call or move a clock).</summary>
    public Func<StoreOperation, string, Task>? BeforeCall { get; set; }

    public long BytesWritten { get; private set; }

    public int MaxAppendBytes { get; set; } = int.MaxValue;

    public string Describe(string name) => "memory:" + name;

    public Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default) => Task.FromResult<IAsyncDisposable>(new Nothing());

    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_lock) return _files.Keys.Order(StringComparer.Ordinal).ToArray();
        }
    }

    public byte[] Content(string name)
    {
        lock (_lock) return _files[name].Content.ToArray();
    }

    /// <summary>Replaces a file's bytes behind the engine's back (damage, or a cut log).</summary>
    public void Overwrite(string name, byte[] content)
    {
        lock (_lock) _files[name] = (content.ToArray(), ++_versions);
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default) => Task.FromResult(Names);

    public async Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Read, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            return _files.TryGetValue(name, out var file) ? new StoredFile(file.Content.ToArray(), Version(file.Version)) : null;
        }
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.OpenRead, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            if (!_files.TryGetValue(name, out var file)) throw new FileNotFoundException($"{name} is missing.");
            return new MemoryStream(file.Content, writable: false);
        }
    }

    public async Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Replace, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            string? current = _files.TryGetValue(name, out var file) ? Version(file.Version) : null;
            if (current != expectedVersion) throw new StorePreconditionException($"{name} is at {current ?? "(absent)"}, not {expectedVersion ?? "(absent)"}.");
            _files[name] = (content.ToArray(), ++_versions);
            BytesWritten += content.Length;
            ThrowIf(fault == StoreFault.FailAfter);
            return Version(_versions);
        }
    }

    public async Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Create, name, out StoreFault fault);
        using var buffer = new MemoryStream();
        await write(buffer, cancellationToken);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            if (_files.ContainsKey(name)) throw new StorePreconditionException($"{name} already exists.");
            _files[name] = (buffer.ToArray(), ++_versions);
            BytesWritten += buffer.Length;
            ThrowIf(fault == StoreFault.FailAfter);
        }
    }

    public async Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.CreateLog, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            if (_files.ContainsKey(name)) throw new StorePreconditionException($"{name} already exists.");
            _files[name] = ([], ++_versions);
            ThrowIf(fault == StoreFault.FailAfter);
            return Version(_versions);
        }
    }

    public async Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Append, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            if (!_files.TryGetValue(name, out var file)) throw new StorePreconditionException($"{name} is gone.");
            if (Version(file.Version) != version || file.Content.Length != expectedLength)
            {
                throw new StorePreconditionException($"{name} is {file.Content.Length} bytes at {Version(file.Version)}, not {expectedLength} at {version}.");
            }

            ReadOnlyMemory<byte> written = fault == StoreFault.TornAppend ? records[..(records.Length / 2)] : records;
            _files[name] = ([.. file.Content, .. written.Span], ++_versions);
            BytesWritten += written.Length;
            ThrowIf(fault is StoreFault.FailAfter or StoreFault.TornAppend);
            return Version(_versions);
        }
    }

    public async Task<string> FenceAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Fence, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            if (!_files.TryGetValue(name, out var file)) throw new FileNotFoundException($"{name} is missing.");
            _files[name] = (file.Content, ++_versions);
            return Version(_versions);
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Delete, name, out StoreFault fault);
        lock (_lock)
        {
            ThrowIf(fault == StoreFault.FailBefore);
            _files.Remove(name);
        }
    }

    private Task EnterAsync(StoreOperation operation, string name, out StoreFault fault)
    {
        fault = Faults?.Invoke(operation, name) ?? StoreFault.None;
        return BeforeCall?.Invoke(operation, name) ?? Task.CompletedTask;
    }

    private static void ThrowIf(bool fail)
    {
        if (fail) throw new IOException("Injected storage fault.");
    }

    private static string Version(long version) => "v" + version.ToString(CultureInfo.InvariantCulture);

    private sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A clock that moves only when told to.</summary>
public sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
