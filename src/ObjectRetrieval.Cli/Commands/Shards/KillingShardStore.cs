using System.Diagnostics;
using ObjectRetrieval.Shards.Storage;

namespace ObjectRetrieval.Cli.Commands.Shards;

/// <summary>Which store call to die at: the <see cref="Count"/>-th call of <see cref="Operation"/>, before, during or after it.</summary>
internal sealed record KillPoint(string Operation, int Count, string When);

/// <summary>
/// Passes every call through to a real store and SIGKILLs its own process at one chosen call: before it, half way
/// through it (half an append, part of a segment), or after it returned. What the writer was doing (append, seal,
/// manifest, compaction) is printed first, so the parent can count kill points by phase.
/// </summary>
internal sealed class KillingShardStore(IShardStore inner, KillPoint point) : IShardStore
{
    private int _calls;

    /// <summary>What the bench's writer is doing now (append, seal, compaction), for the kill report.</summary>
    public static volatile string Phase = "open";

    public string Describe(string name) => inner.Describe(name);

    public int MaxAppendBytes => inner.MaxAppendBytes;

    public Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default) => inner.AcquireAsync(cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    public Task<StoredFile?> ReadAsync(string name, CancellationToken cancellationToken = default) => inner.ReadAsync(name, cancellationToken);

    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        bool kill = Arm("OpenRead", name);
        Stream stream = await inner.OpenReadAsync(name, cancellationToken);
        if (kill) Die("OpenRead", name, "after");
        return stream;
    }

    public async Task<string> ReplaceAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        string op = name == ShardFileNames.Manifest ? "Manifest" : "Replace";
        bool kill = Arm(op, name);
        string version = await inner.ReplaceAsync(name, content, expectedVersion, cancellationToken);
        if (kill) Die(op, name, "after");
        return version;
    }

    public async Task CreateAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        bool kill = Arm("Segment", name);
        await inner.CreateAsync(name, async (stream, cancel) =>
        {
            if (kill && point.When == "during")
            {
                await write(new DyingStream(stream, () => Die("Segment", name, "during")), cancel);
                return;
            }

            await write(stream, cancel);
        }, cancellationToken);
        if (kill) Die("Segment", name, "after");
    }

    public async Task<string> CreateLogAsync(string name, CancellationToken cancellationToken = default)
    {
        bool kill = Arm("CreateLog", name);
        string version = await inner.CreateLogAsync(name, cancellationToken);
        if (kill) Die("CreateLog", name, "after");
        return version;
    }

    public async Task<string> AppendAsync(string name, ReadOnlyMemory<byte> records, long expectedLength, string version, CancellationToken cancellationToken = default)
    {
        bool kill = Arm("Append", name);
        if (kill && point.When == "during")
        {
            // Half the bytes reach storage, then the process dies: a torn tail.
            await inner.AppendAsync(name, records[..(records.Length / 2)], expectedLength, version, cancellationToken);
            Die("Append", name, "during");
        }

        string next = await inner.AppendAsync(name, records, expectedLength, version, cancellationToken);
        if (kill) Die("Append", name, "after");
        return next;
    }

    public Task<string> FenceAsync(string name, CancellationToken cancellationToken = default) => inner.FenceAsync(name, cancellationToken);

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        bool kill = Arm("Delete", name);
        await inner.DeleteAsync(name, cancellationToken);
        if (kill) Die("Delete", name, "after");
    }

    /// <summary>True when this call is the chosen one and should die after (or during) it; dies at once when chosen "before".</summary>
    private bool Arm(string operation, string name)
    {
        if (operation != point.Operation || Interlocked.Increment(ref _calls) != point.Count) return false;
        if (point.When == "before") Die(operation, name, "before");
        return true;
    }

    private static void Die(string operation, string name, string when)
    {
        Console.Out.WriteLine($"kill {Phase} {operation} {when} {name}");
        Console.Out.Flush();
        Process.GetCurrentProcess().Kill();
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>Writes through until about half a block has passed, then dies mid-segment.</summary>
    private sealed class DyingStream(Stream inner, Action die) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position
        {
            get => _written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            _written += buffer.Length;
            if (_written > 8192)
            {
                await inner.FlushAsync(cancellationToken);
                die();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
