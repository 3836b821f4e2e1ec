using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// What one WebSocket connection has sent and the socket has not taken yet: a FIFO of messages written in order by
/// one writer, within a budget of <see cref="ChannelsOptions.MaxOutgoingMessages"/> messages and
/// <see cref="ChannelsOptions.MaxOutgoingBytes"/> bytes. A send within the budget completes at once (as daphne's
/// <c>send()</c> only hands the frame to the transport); a send beyond it waits for room. When the budget stays spent
/// for <see cref="ChannelsOptions.SlowClientTimeout"/>, the client is too slow: <see cref="IOutboxOwner.OnSlowClient"/> is called once.
/// </summary>
/// <remarks>
/// <para>The session makes it on the first send. An idle connection holds nothing here but this object: the queue is made on the first send of a burst and
/// let go when it stays small, and the writer runs (as an async method) only while messages wait. The first write
/// of a burst runs on the sender's thread; Kestrel usually takes a frame without waiting, so a consumer on a
/// healthy connection writes as it did before, without a thread hop.</para>
/// <para>A text message is kept as its string (a group message's text is one string shared by every member's
/// queue) and encoded into the writer's one buffer when its turn comes; bytes are copied when queued (the caller
/// may reuse its memory once the send completed).</para>
/// </remarks>
internal sealed class WebSocketOutbox
{
    private readonly WebSocket _socket;
    private readonly CoalescingStream? _stream;
    private readonly int _maxMessages;
    private readonly long _maxBytes;
    private readonly TimeSpan _slowClientTimeout;
    private readonly TimeProvider _time;
    private readonly IOutboxOwner _owner;

    private readonly Lock _lock = new();

    // Guarded by lock (_lock).
    private Queue<Frame>? _frames;
    private long _bytes;
    private bool _writing;
    private bool _closed;
    private long _spentSince;
    private ITimer? _slowTimer;
    private TaskCompletionSource? _room;
    private TaskCompletionSource? _drained;
    private Action? _whenWritten;
    private bool _inFlight;
    private int _inFlightBytes;
    private volatile int _count;

    /// <param name="socket">The connection's WebSocket.</param>
    /// <param name="stream">The stream under <paramref name="socket"/> when it can hold writes back (frames of a burst then
    /// leave in one socket write); null to write each frame at once.</param>
    /// <param name="options">The budget and the slow-client timeout.</param>
    /// <param name="time">The clock of the slow-client timeout.</param>
    /// <param name="owner">Told about a slow client and a failed write.</param>
    public WebSocketOutbox(WebSocket socket, CoalescingStream? stream, ChannelsOptions options, TimeProvider time, IOutboxOwner owner)
    {
        _socket = socket;
        _stream = stream;
        _maxMessages = options.MaxOutgoingMessages;
        _maxBytes = options.MaxOutgoingBytes;
        _slowClientTimeout = options.SlowClientTimeout;
        _time = time;
        _owner = owner;
    }

    /// <summary>Messages waiting (the one being written included).</summary>
    public int Count => _count;

    /// <summary>True while queued bytes are under the byte limit (read without the lock: the inbox asks under its own).</summary>
    public bool HasByteRoom => Volatile.Read(ref _bytes) < _maxBytes;

    /// <summary>True while a write is on the socket or messages wait for one.</summary>
    public bool IsWriting
    {
        get
        {
            lock (_lock)
            {
                return _writing;
            }
        }
    }

    /// <summary>Queues a message: completes at once within the budget, waits for room beyond it; a message sent after
    /// <see cref="Close"/> is dropped (as Django drops sends after a close).</summary>
    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendAsync(new Frame(text, null, Encoding.UTF8.GetByteCount(text)), cancellationToken);

    /// <inheritdoc cref="SendTextAsync"/>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        SendAsync(new Frame(null, bytes.ToArray(), bytes.Length), cancellationToken);

    /// <summary>Calls <paramref name="callback"/> once, when a queued message next leaves for the socket (at once when
    /// nothing is queued).</summary>
    public void WhenWritten(Action callback)
    {
        lock (_lock)
        {
            if (_count > 0 && !_closed)
            {
                _whenWritten += callback;
                return;
            }
        }

        callback();
    }

    /// <summary>Completes when every queued message was written (or dropped by <see cref="Close"/>), or after
    /// <paramref name="timeout"/>; true when the queue drained.</summary>
    public async ValueTask<bool> DrainAsync(TimeSpan timeout)
    {
        Task drained;
        lock (_lock)
        {
            if (!_writing)
            {
                return true;
            }

            drained = (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        try
        {
            await drained.WaitAsync(timeout, _time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Drops what waits and every later send; sends waiting for room complete (dropped). A write already on
    /// the socket finishes.</summary>
    public void Close()
    {
        Action? written;
        TaskCompletionSource? room;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _frames?.Clear();
            _count = _inFlight ? 1 : 0;
            _bytes = _inFlight ? _inFlightBytes : 0;
            written = TakeWaitersLocked(out room);
            _slowTimer?.Dispose();
            _slowTimer = null;
        }

        room?.TrySetResult();
        written?.Invoke();
    }

    private ValueTask SendAsync(Frame frame, CancellationToken cancellationToken)
    {
        bool start;
        Task room;
        lock (_lock)
        {
            if (_closed)
            {
                return ValueTask.CompletedTask;
            }

            if (IsSpentLocked(frame.ByteCount))
            {
                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                MarkSpentLocked();
                start = false;
            }
            else
            {
                (_frames ??= new Queue<Frame>()).Enqueue(frame);
                _count++;
                _bytes += frame.ByteCount;
                if (!UnderLimitsLocked)
                {
                    MarkSpentLocked();
                }

                start = !_writing;
                _writing = true;
                room = null!;
            }
        }

        if (room is null)
        {
            if (start)
            {
                _ = WriteAsync();
            }

            return ValueTask.CompletedTask;
        }

        return SendWhenRoomAsync(room, frame, cancellationToken);
    }

    private async ValueTask SendWhenRoomAsync(Task room, Frame frame, CancellationToken cancellationToken)
    {
        await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Spent: a message waits and <paramref name="nextBytes"/> more would pass either limit (one message
    /// always fits an empty queue, however big).</summary>
    private bool IsSpentLocked(int nextBytes) => _count > 0 && (_count >= _maxMessages || _bytes + nextBytes > _maxBytes);

    /// <summary>Fewer messages and bytes wait than the budget's limits: not spent, and a waiting sender may try again.</summary>
    private bool UnderLimitsLocked => _count < _maxMessages && _bytes < _maxBytes;

    private void MarkSpentLocked()
    {
        if (_spentSince != 0 || _slowClientTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        _spentSince = Math.Max(1, _time.GetTimestamp());
        if (_slowTimer is null)
        {
            _slowTimer = _time.CreateTimer(static state => ((WebSocketOutbox)state!).OnSlowTimer(), this, _slowClientTimeout, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _slowTimer.Change(_slowClientTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnSlowTimer()
    {
        int count;
        long bytes;
        lock (_lock)
        {
            if (_closed || _spentSince == 0)
            {
                return;
            }

            var spentFor = _time.GetElapsedTime(_spentSince);
            if (spentFor < _slowClientTimeout)
            {
                _slowTimer?.Change(_slowClientTimeout - spentFor, Timeout.InfiniteTimeSpan);
                return;
            }

            count = _count;
            bytes = _bytes;
        }

        Close();
        _owner.OnSlowClient(count, bytes);
    }

    /// <summary>
    /// The one writer: writes the queue's head until the queue is empty, then ends (started again by the next send).
    /// While more frames wait behind the one it writes, the stream holds the frame back, so a burst leaves in socket
    /// writes of up to <see cref="CoalescingStream.MaxHeldBytes"/> rather than one per frame. The last frame of the
    /// queue is written without holding, which sends what was held; if <see cref="Close"/> dropped the queue behind a
    /// held frame, the close frame that follows (never held) sends it.
    /// </summary>
    private async Task WriteAsync()
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                Frame frame;
                bool more;
                lock (_lock)
                {
                    if (_frames is not { Count: > 0 } frames)
                    {
                        EndWritingLocked();
                        return;
                    }

                    frame = frames.Dequeue();
                    more = frames.Count > 0;
                    _inFlight = true;
                    _inFlightBytes = frame.ByteCount;
                }

                var type = frame.Text is null ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
                if (_stream is { } stream)
                {
                    // Framed by the stream itself, straight into its held buffer (see CoalescingStream).
                    ThrowIfCannotSend();
                    await stream.WriteMessageAsync(type, frame.Text, frame.Bytes, frame.ByteCount, hold: more, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    ReadOnlyMemory<byte> payload = frame.Bytes;
                    if (frame.Text is { } text)
                    {
                        if (buffer is null || buffer.Length < frame.ByteCount)
                        {
                            if (buffer is not null)
                            {
                                ArrayPool<byte>.Shared.Return(buffer);
                            }

                            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(frame.ByteCount, 256));
                        }

                        payload = buffer.AsMemory(0, Encoding.UTF8.GetBytes(text, buffer));
                    }

                    await _socket.SendAsync(payload, type, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                }

                OnWritten(frame.ByteCount);
            }
        }
        catch (Exception ex)
        {
            // The connection is gone (or closed under the write): nothing more can be written. The failed write is
            // gone too: nothing waits any more.
            lock (_lock)
            {
                _inFlight = false;
                _count = 0;
                _bytes = 0;
            }

            Close();
            lock (_lock)
            {
                EndWritingLocked();
            }

            _owner.OnWriteFailed(ex);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Refuses a write in the states in which <c>WebSocket.SendAsync</c> refuses one (aborted, closed, close sent).</summary>
    private void ThrowIfCannotSend()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {_socket.State}: no message can be sent.");
        }
    }

    private void OnWritten(int byteCount)
    {
        Action? written;
        TaskCompletionSource? room;
        lock (_lock)
        {
            _inFlight = false;
            _count--;
            _bytes -= byteCount;
            if (UnderLimitsLocked)
            {
                _spentSince = 0;
            }

            written = TakeWaitersLocked(out room);
        }

        room?.TrySetResult();
        written?.Invoke();
    }

    /// <summary>Takes the one-shot written callbacks, and the senders waiting for room when there is room again (or the outbox closed).</summary>
    private Action? TakeWaitersLocked(out TaskCompletionSource? room)
    {
        var written = _whenWritten;
        _whenWritten = null;
        room = null;
        if (_closed || UnderLimitsLocked)
        {
            room = _room;
            _room = null;
        }

        return written;
    }

    private void EndWritingLocked()
    {
        _writing = false;
        _spentSince = 0;
        if (_frames is { } frames && frames.EnsureCapacity(0) > 64)
        {
            _frames = null; // A burst's queue is let go: an idle connection holds none.
        }

        _drained?.TrySetResult();
        _drained = null;
    }

    private readonly record struct Frame(string? Text, byte[]? Bytes, int ByteCount);
}
