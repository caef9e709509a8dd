using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ObjectRetrieval.Grains.Storage;

/// <summary>
/// Write-only stream that stages what is written as blocks of a block blob and commits them only in
/// <see cref="CommitIfAbsentAsync"/>. Until then the blob is not there (uncommitted blocks are invisible and the
/// service discards them), so a writer that fails or crashes half way leaves no partial blob; unlike the
/// SDK's write stream, which commits whatever it holds when disposed. Memory holds one block.
/// </summary>
internal sealed class BlockStagingStream(BlockBlobClient blob, int blockBytes) : Stream
{
    private readonly byte[] _block = new byte[blockBytes];
    private readonly List<string> _blockIds = [];

    // Uncommitted blocks of two writers of one blob would mix under equal ids: each writer's ids are its own.
    private readonly string _writer = Guid.NewGuid().ToString("N");
    private int _filled;
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

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Fill(buffer)..];
            if (_filled < _block.Length) continue;
            using var content = new MemoryStream(_block, 0, _filled, writable: false);
            blob.StageBlock(NextBlockId(), content);
            _filled = 0;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Fill(buffer.Span)..];
            if (_filled == _block.Length) await StageBlockAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Nothing to do: full blocks are staged as they fill, and nothing is visible before <see cref="CommitIfAbsentAsync"/>.</summary>
    public override void Flush()
    {
    }

    /// <summary>Stages the last block and commits the block list if the blob does not exist: it appears, whole, in this call.</summary>
    public async Task CommitIfAbsentAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0) await StageBlockAsync(cancellationToken).ConfigureAwait(false);
        var conditions = new BlobRequestConditions { IfNoneMatch = ETag.All };
        if (_blockIds.Count == 0)
        {
            await blob.UploadAsync(new MemoryStream(), new BlobUploadOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
            return;
        }

        await blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private int Fill(ReadOnlySpan<byte> buffer)
    {
        int count = Math.Min(buffer.Length, _block.Length - _filled);
        buffer[..count].CopyTo(_block.AsSpan(_filled));
        _filled += count;
        _written += count;
        return count;
    }

    private async Task StageBlockAsync(CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(_block, 0, _filled, writable: false);
        await blob.StageBlockAsync(NextBlockId(), content, cancellationToken: cancellationToken).ConfigureAwait(false);
        _filled = 0;
    }

    // Block ids of one blob must all have the same length.
    private string NextBlockId()
    {
        string id = Convert.ToBase64String(Encoding.ASCII.GetBytes(_writer + _blockIds.Count.ToString("D8", CultureInfo.InvariantCulture)));
        _blockIds.Add(id);
        return id;
    }
}
