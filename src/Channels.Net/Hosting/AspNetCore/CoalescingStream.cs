using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// The upgraded connection's stream under the WebSocket, able to hold writes back so that a burst of frames leaves
/// in one write: Kestrel's upgraded stream flushes every write (one socket send per frame), which under a burst
/// costs more than the frames themselves. While <see cref="HoldWrites"/> is set (by the connection's one outbox
/// writer, while more frames wait behind the one it writes), data frames are copied into a buffer; the next write
/// made without it (or a control frame) sends what was held and that write together.
/// </summary>
/// <remarks>
/// <para>It is also the request's <see cref="IHttpUpgradeFeature"/> (one object per connection, not two): set by
/// <see cref="WrapAsync"/> before ASP.NET Core's WebSocket middleware runs, which builds the WebSocket on the stream
/// <see cref="UpgradeAsync"/> returns, this one, wrapping Kestrel's. HTTP/2 WebSockets (extended CONNECT) do not come
/// through here and write each frame at once, as before.</para>
/// <para>Every write keeps its order: a write that is not held first sends what is held. Control frames (close, ping,
/// pong: opcode 8 and above in the frame's first byte; <c>ManagedWebSocket</c> writes each frame, header and payload,
/// in one write) are never held, so a close frame written while the outbox holds frames back still leaves, after
/// them. Nothing else writes here: every write comes from the WebSocket, under its one send lock. At most
/// <see cref="MaxHeldBytes"/> are held; the buffer is rented for a burst and returned when it is sent, so an idle
/// connection holds none.</para>
/// </remarks>
internal sealed class CoalescingStream : Stream, IHttpUpgradeFeature
{
    /// <summary>Held bytes beyond which a held write is sent at once.</summary>
    public const int MaxHeldBytes = 32 * 1024;

    private readonly IHttpUpgradeFeature? _upgrade;
    private Stream _inner;

    // Written by one writer at a time (the WebSocket's send lock).
    private byte[]? _held;
    private int _heldCount;

    /// <summary>A stream over <paramref name="inner"/> (tests).</summary>
    public CoalescingStream(Stream inner) => _inner = inner;

    private CoalescingStream(IHttpUpgradeFeature upgrade)
    {
        _upgrade = upgrade;
        _inner = Null;
    }

    /// <summary>Set while the writes that follow should wait for a later one (more frames are about to be written).</summary>
    public bool HoldWrites { get; set; }

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

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (HoldWrites && !buffer.IsEmpty && !IsControlFrame(buffer.Span[0]) && _heldCount + buffer.Length <= MaxHeldBytes)
        {
            Hold(buffer.Span);
            return ValueTask.CompletedTask;
        }

        return Send(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await Send(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>True for a WebSocket control frame's first byte (close, ping, pong: opcodes 8 to 15).</summary>
    private static bool IsControlFrame(byte first) => (first & 0x08) != 0;

    /// <summary>Sends what is held and <paramref name="buffer"/>, in one write when they fit together.</summary>
    private ValueTask Send(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_heldCount == 0)
        {
            return buffer.IsEmpty ? ValueTask.CompletedTask : _inner.WriteAsync(buffer, cancellationToken);
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

    /// <summary>Lets go of what is held on disposal (not back to the pool: an abort may dispose the stream while a write
    /// still copies into it; the GC takes it).</summary>
    private void DropHeld()
    {
        _held = null;
        _heldCount = 0;
    }
}
