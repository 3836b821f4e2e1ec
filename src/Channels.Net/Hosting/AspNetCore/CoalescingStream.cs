using System.Buffers;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// The upgraded connection's stream under the WebSocket, able to hold writes back so that a burst of frames leaves
/// in one write: Kestrel's upgraded stream flushes every write (one socket send per frame), which under a burst
/// costs more than the frames themselves. While <see cref="HoldWrites"/> is set (by the connection's one outbox
/// writer, while more frames wait behind the one it writes), writes are copied into a buffer; the next write made
/// without it, or <see cref="FlushHeldAsync"/>, sends what was held and that write together.
/// </summary>
/// <remarks>
/// Every write keeps its order: a write that is not held (a ping or close frame of the WebSocket, say) first sends
/// what is held. Writes are serialized here, so the outbox's <see cref="FlushHeldAsync"/> may run beside the
/// WebSocket's own writes. At most <see cref="MaxHeldBytes"/> are held; the buffer is rented for a burst and
/// returned when it is sent, so an idle connection holds none.
/// </remarks>
internal sealed class CoalescingStream(Stream inner) : Stream
{
    /// <summary>Held bytes beyond which a held write is sent at once.</summary>
    public const int MaxHeldBytes = 32 * 1024;

    private readonly SemaphoreSlim _writeLock = new(1, 1);

    // Guarded by _writeLock.
    private byte[]? _held;
    private int _heldCount;

    /// <summary>Set while the writes that follow should wait for a later one (more frames are about to be written).</summary>
    public bool HoldWrites { get; set; }

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_writeLock.Wait(0))
        {
            return WriteContendedAsync(buffer, cancellationToken);
        }

        var release = true;
        try
        {
            if (HoldWrites && _heldCount + buffer.Length <= MaxHeldBytes)
            {
                Hold(buffer.Span);
                return ValueTask.CompletedTask;
            }

            var write = SendLocked(buffer, cancellationToken);
            if (write.IsCompletedSuccessfully)
            {
                write.GetAwaiter().GetResult();
                return ValueTask.CompletedTask;
            }

            release = false;
            return ReleaseAfterAsync(write);
        }
        finally
        {
            if (release)
            {
                _writeLock.Release();
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Sends what is held (nothing to do when nothing is).</summary>
    public async ValueTask FlushHeldAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SendLocked(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await FlushHeldAsync(cancellationToken).ConfigureAwait(false);
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        ReturnHeld();
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReturnHeld();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask WriteContendedAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (HoldWrites && _heldCount + buffer.Length <= MaxHeldBytes)
            {
                Hold(buffer.Span);
                return;
            }

            await SendLocked(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask ReleaseAfterAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends what is held and <paramref name="buffer"/>, in one write when they fit together.</summary>
    private ValueTask SendLocked(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_heldCount == 0)
        {
            return buffer.IsEmpty ? ValueTask.CompletedTask : inner.WriteAsync(buffer, cancellationToken);
        }

        if (_heldCount + buffer.Length <= MaxHeldBytes)
        {
            Hold(buffer.Span);
            return SendHeldAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        return SendHeldAsync(buffer, cancellationToken);
    }

    /// <summary>Sends the held bytes, then <paramref name="after"/> (too big to join them), and lets the buffer go.</summary>
    private async ValueTask SendHeldAsync(ReadOnlyMemory<byte> after, CancellationToken cancellationToken)
    {
        var held = _held!;
        var count = _heldCount;
        _held = null;
        _heldCount = 0;
        try
        {
            await inner.WriteAsync(held.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
        }

        if (!after.IsEmpty)
        {
            await inner.WriteAsync(after, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (_held is null)
        {
            _held = ArrayPool<byte>.Shared.Rent(Math.Max(4096, bytes.Length));
        }
        else if (_held.Length < _heldCount + bytes.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(MaxHeldBytes, Math.Max(_held.Length * 2, _heldCount + bytes.Length)));
            _held.AsSpan(0, _heldCount).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_held);
            _held = larger;
        }

        bytes.CopyTo(_held.AsSpan(_heldCount));
        _heldCount += bytes.Length;
    }

    /// <summary>Lets the held buffer go on disposal, unless a write is using it (then the GC takes it).</summary>
    private void ReturnHeld()
    {
        if (!_writeLock.Wait(0))
        {
            return;
        }

        try
        {
            if (_held is { } held)
            {
                _held = null;
                _heldCount = 0;
                ArrayPool<byte>.Shared.Return(held);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
