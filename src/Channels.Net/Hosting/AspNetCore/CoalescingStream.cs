using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// The upgraded connection's stream under the WebSocket, which also writes the connection's data messages itself,
/// so that a burst of them leaves in one socket write: Kestrel's upgraded stream flushes every write (one socket send
/// per frame), which under a burst costs more than the frames themselves. <see cref="WriteMessageAsync"/> (the
/// connection's one outbox writer) frames a message straight into a held buffer, the UTF-8 of a text encoded in
/// place, and keeps it there while the writer says more messages follow; the next message written without holding,
/// or any frame the WebSocket writes (close, ping, pong), sends what was held and itself together.
/// </summary>
/// <remarks>
/// <para>It is also the request's <see cref="IHttpUpgradeFeature"/> (one object per connection, not two): set by
/// <see cref="WrapAsync"/> before ASP.NET Core's WebSocket middleware runs, which builds the WebSocket on the stream
/// <see cref="UpgradeAsync"/> returns, this one, wrapping Kestrel's. HTTP/2 WebSockets (extended CONNECT) do not come
/// through here: their messages go through the WebSocket, each frame written at once.</para>
/// <para>Writing data frames here rather than through <c>ManagedWebSocket.SendAsync</c> saves its state lock, its send
/// semaphore and a copy of every payload (profiled: 10–12 % of a server's CPU under a room burst). It is safe because
/// the server's frames are simple (never masked; no extension is negotiated, so no compression) and because every
/// write, the WebSocket's and this class's own, is made under one lock in this class, whole frames at a time
/// (<c>ManagedWebSocket</c> writes each frame, header and payload, in one write). Once the WebSocket wrote its close
/// frame, a data message is refused as <c>ManagedWebSocket</c> refuses it (a <see cref="WebSocketException"/>).</para>
/// <para>Every write keeps its order. At most <see cref="MaxHeldBytes"/> are held; the buffer is rented for a burst
/// and returned when it is sent, so an idle connection holds none.</para>
/// </remarks>
internal sealed class CoalescingStream : Stream, IHttpUpgradeFeature
{
    /// <summary>Held bytes beyond which a held write is sent at once.</summary>
    public const int MaxHeldBytes = 32 * 1024;

    private readonly IHttpUpgradeFeature? _upgrade;
    private SemaphoreSlim? _writeLock;
    private Stream _inner;

    // Guarded by WriteLock.
    private byte[]? _held;
    private int _heldCount;
    private bool _closeWritten;

    /// <summary>The lock of every write, made on the first (an idle connection that never wrote holds none).</summary>
    private SemaphoreSlim WriteLock =>
        _writeLock ?? Interlocked.CompareExchange(ref _writeLock, new SemaphoreSlim(1, 1), null) ?? _writeLock;

    /// <summary>A stream over <paramref name="inner"/> (tests).</summary>
    public CoalescingStream(Stream inner) => _inner = inner;

    private CoalescingStream(IHttpUpgradeFeature upgrade)
    {
        _upgrade = upgrade;
        _inner = Null;
    }

    /// <inheritdoc />
    public bool IsUpgradableRequest => _upgrade?.IsUpgradableRequest ?? false;

    /// <summary>Wraps the request's upgrade feature (a WebSocket request on HTTP/1.1 only), then calls the rest of the pipeline.</summary>
    public static Task WrapAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && upgrade is not CoalescingStream)
        {
            context.Features.Set<IHttpUpgradeFeature>(new CoalescingStream(upgrade));
        }

        return next(context);
    }

    /// <summary>Upgrades the connection and returns this stream over the upgraded one.</summary>
    public async Task<Stream> UpgradeAsync()
    {
        _inner = await (_upgrade ?? throw new InvalidOperationException("Not an upgrade.")).UpgradeAsync().ConfigureAwait(false);
        return this;
    }

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    /// <summary>
    /// Writes one data message as one frame (FIN set, unmasked). With <paramref name="hold"/> it stays in the held
    /// buffer (when it fits) for the next write; without, it leaves now, after what was held, in one write when they fit.
    /// </summary>
    /// <param name="type">Text or binary.</param>
    /// <param name="text">A text message (encoded as UTF-8 into the frame), or null for <paramref name="bytes"/>.</param>
    /// <param name="bytes">A binary message's payload, when <paramref name="text"/> is null.</param>
    /// <param name="byteCount">The payload's length in bytes (the UTF-8 length of <paramref name="text"/>).</param>
    /// <param name="hold">More messages follow at once: keep this one back to leave with them.</param>
    /// <param name="cancellationToken">Cancels a wait for the socket.</param>
    /// <exception cref="WebSocketException">The WebSocket already sent its close frame.</exception>
    public ValueTask WriteMessageAsync(WebSocketMessageType type, string? text, ReadOnlyMemory<byte> bytes, int byteCount, bool hold, CancellationToken cancellationToken)
    {
        if (!WriteLock.Wait(0))
        {
            return WriteMessageWhenFreeAsync(type, text, bytes, byteCount, hold, cancellationToken);
        }

        return ReleaseWhenDone(WriteMessageLocked(type, text, bytes, byteCount, hold, cancellationToken));
    }

    /// <summary>The WebSocket's writes: one whole frame each (a control frame, or a data frame of a caller that used the
    /// WebSocket directly), sent at once after what was held.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!WriteLock.Wait(0))
        {
            return WriteWhenFreeAsync(buffer, cancellationToken);
        }

        return ReleaseWhenDone(WriteLocked(buffer, cancellationToken));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Send(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            WriteLock.Release();
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropHeld();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The length of a server frame's header (unmasked) for a payload of <paramref name="length"/> bytes.</summary>
    internal static int HeaderLength(int length) => length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;

    /// <summary>Writes a final frame's header (RFC 6455 5.2: FIN, opcode, unmasked payload length).</summary>
    internal static void WriteHeader(Span<byte> destination, WebSocketMessageType type, int length)
    {
        destination[0] = (byte)(0x80 | (type == WebSocketMessageType.Text ? 0x1 : 0x2));
        if (length < 126)
        {
            destination[1] = (byte)length;
        }
        else if (length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
        }
        else
        {
            destination[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)length);
        }
    }

    private ValueTask WriteMessageLocked(WebSocketMessageType type, string? text, ReadOnlyMemory<byte> bytes, int byteCount, bool hold, CancellationToken cancellationToken)
    {
        if (_closeWritten)
        {
            return ValueTask.FromException(new WebSocketException(WebSocketError.InvalidState, "The WebSocket has sent its close frame: no message can follow it."));
        }

        var headerLength = HeaderLength(byteCount);
        var size = headerLength + byteCount;
        if (_heldCount > 0 && _heldCount + size > MaxHeldBytes && size <= MaxHeldBytes)
        {
            return SendHeldThenWriteAsync(type, text, bytes, byteCount, hold, cancellationToken); // It starts the next held write.
        }

        if (_heldCount + size <= MaxHeldBytes)
        {
            Fill(Reserve(size), type, text, bytes.Span, byteCount, headerLength);
            return hold ? ValueTask.CompletedTask : SendHeldAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        // Too big to join what is held: its own buffer, written after what is held.
        var frame = ArrayPool<byte>.Shared.Rent(size);
        Fill(frame, type, text, bytes.Span, byteCount, headerLength);
        return SendLargeAsync(frame, size, cancellationToken);
    }

    private static void Fill(Span<byte> destination, WebSocketMessageType type, string? text, ReadOnlySpan<byte> bytes, int byteCount, int headerLength)
    {
        WriteHeader(destination, type, byteCount);
        if (text is not null)
        {
            Encoding.UTF8.GetBytes(text, destination.Slice(headerLength, byteCount));
        }
        else
        {
            bytes.CopyTo(destination[headerLength..]);
        }
    }

    private async ValueTask SendHeldThenWriteAsync(WebSocketMessageType type, string? text, ReadOnlyMemory<byte> bytes, int byteCount, bool hold, CancellationToken cancellationToken)
    {
        await SendHeldAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await WriteMessageLocked(type, text, bytes, byteCount, hold, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendLargeAsync(byte[] frame, int size, CancellationToken cancellationToken)
    {
        try
        {
            await Send(frame.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private ValueTask WriteLocked(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!buffer.IsEmpty && (buffer.Span[0] & 0x0F) == 0x8)
        {
            _closeWritten = true; // A close frame: no data frame may follow it.
        }

        return Send(buffer, cancellationToken);
    }

    private async ValueTask WriteMessageWhenFreeAsync(WebSocketMessageType type, string? text, ReadOnlyMemory<byte> bytes, int byteCount, bool hold, CancellationToken cancellationToken)
    {
        await WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseWhenDone(WriteMessageLocked(type, text, bytes, byteCount, hold, cancellationToken)).ConfigureAwait(false);
    }

    private async ValueTask WriteWhenFreeAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseWhenDone(WriteLocked(buffer, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Releases the write lock once <paramref name="write"/> (made under it) completed; at once when it did already.</summary>
    private ValueTask ReleaseWhenDone(ValueTask write)
    {
        if (write.IsCompleted)
        {
            try
            {
                write.GetAwaiter().GetResult();
            }
            finally
            {
                WriteLock.Release();
            }

            return ValueTask.CompletedTask;
        }

        return ReleaseAfterAsync(write);
    }

    private async ValueTask ReleaseAfterAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            WriteLock.Release();
        }
    }

    /// <summary>Sends what is held and <paramref name="buffer"/>, in one write when they fit together.</summary>
    private ValueTask Send(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_heldCount == 0)
        {
            return buffer.IsEmpty ? ValueTask.CompletedTask : WriteInner(buffer, cancellationToken);
        }

        if (_heldCount + buffer.Length <= MaxHeldBytes)
        {
            Hold(buffer.Span);
            return SendHeldAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        return SendHeldAsync(buffer, cancellationToken);
    }

    /// <summary>Writes to the upgraded stream; a write it refuses at once (a disposed stream throws rather than fails
    /// its task) becomes a failed write, so the caller's write lock is still released.</summary>
    private ValueTask WriteInner(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return _inner.WriteAsync(buffer, cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
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
            await _inner.WriteAsync(held.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
        }

        if (!after.IsEmpty)
        {
            await _inner.WriteAsync(after, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            bytes.CopyTo(Reserve(bytes.Length));
        }
    }

    /// <summary>Makes room for <paramref name="count"/> more held bytes (within <see cref="MaxHeldBytes"/>) and returns it.</summary>
    private Span<byte> Reserve(int count)
    {
        if (_held is null)
        {
            _held = ArrayPool<byte>.Shared.Rent(Math.Max(4096, count));
        }
        else if (_held.Length < _heldCount + count)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(MaxHeldBytes, Math.Max(_held.Length * 2, _heldCount + count)));
            _held.AsSpan(0, _heldCount).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_held);
            _held = larger;
        }

        var reserved = _held.AsSpan(_heldCount, count);
        _heldCount += count;
        return reserved;
    }

    /// <summary>Lets go of what is held on disposal (not back to the pool: an abort may dispose the stream while a write
    /// still copies into it; the GC takes it).</summary>
    private void DropHeld()
    {
        _held = null;
        _heldCount = 0;
    }
}
