using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Channels.Net.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// A WebSocket served by ASP.NET Core, as an <see cref="IWebSocketSession"/>. The handshake waits
/// for the application: it is completed by <see cref="AcceptAsync"/> or answered with an HTTP
/// status by <see cref="CloseAsync"/> / <see cref="RejectAsync"/> (daphne's behaviour).
/// </summary>
/// <remarks>
/// <para>Incoming messages are limited to <see cref="ChannelsOptions.MaxIncomingMessageSize"/> (close 1009)
/// and text must be valid UTF-8 (close 1007). While idle, a connection holds no receive buffer: it
/// waits with a zero-byte read (which <see cref="WebSocket.ReceiveAsync(Memory{byte}, CancellationToken)"/>
/// completes when a frame header arrived, consuming none of its payload) and rents a buffer only
/// when a message arrives.</para>
/// <para>When the server closes, the client has <see cref="ChannelsOptions.CloseTimeout"/> to answer
/// with its close frame; messages it sends meanwhile are dropped, and a client that never answers is
/// dropped (the disconnect then reports 1006).</para>
/// <para>Sends are queued (<see cref="WebSocketOutbox"/>): a send within the connection's outgoing budget completes
/// at once, and a close goes after what was sent before it. A client that leaves the budget spent for
/// <see cref="ChannelsOptions.SlowClientTimeout"/> is closed with 1008 (see docs/flow-control.md).</para>
/// </remarks>
internal sealed class AspNetWebSocketSession : IWebSocketSession, IAbortableSession, IOutgoingBudget, IOutboxOwner, IDisposable
{
    private const int FirstBufferSize = 4096;
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly HttpContext _http;
    private readonly ChannelsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _aborted;

    // Settled (and released) when the handshake is accepted or refused; state changes are made under lock (this).
    private TaskCompletionSource<bool>? _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebSocket? _socket;
    private HandshakeState _state;
    private volatile bool _open;
    private bool _connectDelivered;
    private int _goneCode;
    private int _refusedCode = 1000;
    private volatile bool _closeSent;
    private ITimer? _handshakeTimer;
    private ITimer? _closeTimer;
    private int _serverRefusalStatus;
    private bool _serverRefusalWritten;
    private CancellationTokenRegistration _stopping;
    private Task<WebSocketEvent>? _pendingRead;
    private WebSocketOutbox? _outbox;
    private volatile int _abortCode;

    public AspNetWebSocketSession(HttpContext http, ChannelsOptions options, TimeProvider time, ILogger logger)
    {
        _http = http;
        _options = options;
        _time = time;
        _logger = logger;
        _aborted = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
    }

    private enum HandshakeState
    {
        Pending,
        Accepted,
        Refused,
    }

    /// <summary>Set when the application found no route: the middleware passes the request on.</summary>
    public bool NotFound { get; private set; }

    public bool IsAccepted => _state == HandshakeState.Accepted;

    /// <summary>Cancelled when the client is gone, or when the handshake timed out (the connection is over for the
    /// application), or when the application cancels it (<see cref="AbortApplication"/>).</summary>
    public CancellationToken Aborted => _aborted.Token;

    /// <summary>The application is over with this connection (a consumer ends, or heard its client leave).</summary>
    public void AbortApplication()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The request has ended.
        }
    }

    /// <summary>
    /// Completes when the handshake is accepted or refused. When the server itself refused it (500 when the
    /// application did not answer within <see cref="ChannelsOptions.HandshakeTimeout"/>, 503 when the
    /// server stops), the middleware then writes the answer with <see cref="WriteServerRefusalAsync"/>.
    /// </summary>
    public Task HandshakeSettled => Volatile.Read(ref _handshake)?.Task ?? Task.CompletedTask;

    /// <summary>Refuses the handshake (HTTP 500, logged) if the application has not answered it in time.</summary>
    public void StartHandshakeTimer()
    {
        _handshakeTimer = _time.CreateTimer(
            static state => ((AspNetWebSocketSession)state!).OnHandshakeTimeout(),
            this,
            _options.HandshakeTimeout,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>When the server stops: refuses a pending handshake (503) or closes an open WebSocket with 1001.</summary>
    public void CloseWhenStopping(CancellationToken stopping)
    {
        _stopping = stopping.UnsafeRegister(static state => _ = ((AspNetWebSocketSession)state!).OnStoppingAsync(), this);
    }

    /// <summary>The next event. Once the handshake is settled, an open socket's read is returned as it is (no
    /// wrapper of its own); an idle read holds no buffer, and no cancellation registration when
    /// <paramref name="cancellationToken"/> cannot be cancelled.</summary>
    public ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_goneCode != 0)
        {
            return new ValueTask<WebSocketEvent>(WebSocketEvent.Disconnected(_goneCode));
        }

        if (!_connectDelivered)
        {
            _connectDelivered = true;
            return new ValueTask<WebSocketEvent>(WebSocketEvent.Connect);
        }

        if (Volatile.Read(ref _handshake) is { } handshake)
        {
            return WaitForHandshakeAsync(handshake.Task, cancellationToken);
        }

        return _open ? ReadAsync(cancellationToken) : new ValueTask<WebSocketEvent>(Gone(_refusedCode));
    }

    public async ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        // Bad arguments are the application's bug: refuse them before anything is sent, so the
        // handshake can still be answered with 500.
        CheckSubprotocol(subprotocol);
        WebSocketHandshakeRules.CheckHeaders(headers);
        lock (this)
        {
            if (_state != HandshakeState.Pending)
            {
                throw new InvalidOperationException(_state == HandshakeState.Accepted
                    ? "The WebSocket was already accepted."
                    : "The WebSocket handshake was already refused; it cannot be accepted.");
            }

            _state = HandshakeState.Accepted;
        }

        Interlocked.Exchange(ref _handshakeTimer, null)?.Dispose();
        try
        {
            if (headers is not null)
            {
                foreach (var (name, value) in headers)
                {
                    _http.Response.Headers.Append(name, value);
                }
            }

            _socket = await _http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = subprotocol,
                KeepAliveInterval = _options.KeepAliveInterval,
                KeepAliveTimeout = _options.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : _options.KeepAliveTimeout,
            }).ConfigureAwait(false);
        }
        catch
        {
            _refusedCode = 1006; // The upgrade failed: the client is gone.
            SettleHandshake(false);
            throw;
        }

        _open = true;
        SettleHandshake(true);
    }

    int IOutgoingBudget.MaxMessages => _options.MaxOutgoingMessages;

    int IOutgoingBudget.QueuedMessages => _outbox?.Count ?? 0;

    bool IOutgoingBudget.HasByteRoom => _outbox?.HasByteRoom ?? true;

    void IOutgoingBudget.WhenWritten(Action callback)
    {
        if (_outbox is { } outbox)
        {
            outbox.WhenWritten(callback);
        }
        else
        {
            callback();
        }
    }

    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Outbox()?.SendTextAsync(text, cancellationToken) ?? ValueTask.CompletedTask;
    }

    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        Outbox()?.SendBinaryAsync(bytes, cancellationToken) ?? ValueTask.CompletedTask;

    public async ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        var status = code ?? 1000;
        WebSocketHandshakeRules.CheckCloseCode(status);
        if (TryRefuse(status))
        {
            await RespondAsync(StatusCodes.Status403Forbidden).ConfigureAwait(false);
            WebSocketSessionLog.Refused(_logger, _http.Request.Path, StatusCodes.Status403Forbidden, "the consumer closed before accepting");
            return;
        }

        var socket = _socket;
        if (socket is null || socket.State != WebSocketState.Open)
        {
            return;
        }

        // The close goes after what was sent before it. A client that does not take that within CloseTimeout
        // would not read a close frame either: it is dropped.
        if (_outbox is { } outbox)
        {
            var drained = await outbox.DrainAsync(_options.CloseTimeout).ConfigureAwait(false);
            outbox.Close();
            if (!drained)
            {
                WebSocketSessionLog.CloseNotDrained(_logger, _http.Request.Path, status, _options.CloseTimeout.TotalSeconds);
                socket.Abort();
                return;
            }
        }

        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                _closeSent = true;
                await socket.CloseOutputAsync((WebSocketCloseStatus)status, WebSocketHandshakeRules.TrimReason(reason), cancellationToken).ConfigureAwait(false);

                // The client has CloseTimeout to answer; then the connection is dropped, even while a read waits.
                _closeTimer = _time.CreateTimer(static state => ((WebSocket)state!).Abort(), socket, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            WebSocketSessionLog.SendFailed(_logger, ex.Message);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask RejectAsync(int statusCode, string reason)
    {
        if (TryRefuse(statusCode is >= 400 and < 500 ? 1008 : 1011))
        {
            if (statusCode == StatusCodes.Status404NotFound)
            {
                NotFound = true; // The middleware passes the request on; the pipeline's end answers 404.
                return;
            }

            await RespondAsync(statusCode).ConfigureAwait(false);
            WebSocketSessionLog.Refused(_logger, _http.Request.Path, statusCode, reason);
            return;
        }

        if (IsAccepted)
        {
            await CloseAsync(statusCode is >= 400 and < 500 ? 1008 : 1011, reason).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the application returned: an unanswered handshake is refused (500), an open socket is
    /// closed normally, and a close the server sent waits (at most <see cref="ChannelsOptions.CloseTimeout"/>)
    /// for the client's answer, so the TCP connection ends after the close handshake.
    /// </summary>
    public async ValueTask CompleteAsync()
    {
        await WriteServerRefusalAsync().ConfigureAwait(false);
        if (TryRefuse(1011))
        {
            await RespondAsync(StatusCodes.Status500InternalServerError).ConfigureAwait(false);
            WebSocketSessionLog.NoAnswer(_logger, _http.Request.Path);
            return;
        }

        var socket = _socket;
        if (socket is null)
        {
            return;
        }

        if (socket.State == WebSocketState.Open)
        {
            await CloseAsync(1000).ConfigureAwait(false);
        }

        if (socket.State == WebSocketState.CloseSent)
        {
            await DrainAsync(socket).ConfigureAwait(false);
        }
    }

    /// <summary>Answers the handshake if the server refused it itself (see <see cref="HandshakeSettled"/>); called on the request's own flow only.</summary>
    public async ValueTask WriteServerRefusalAsync()
    {
        var status = Volatile.Read(ref _serverRefusalStatus);
        if (_serverRefusalWritten || status == 0)
        {
            return;
        }

        _serverRefusalWritten = true;
        try
        {
            await RespondAsync(status).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            WebSocketSessionLog.SendFailed(_logger, ex.Message);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        Interlocked.Exchange(ref _handshakeTimer, null)?.Dispose();
        _closeTimer?.Dispose();
        _outbox?.Close();
        _socket?.Dispose();
        _aborted.Dispose();
        _sendLock.Dispose();
    }

    private async ValueTask<WebSocketEvent> WaitForHandshakeAsync(Task<bool> handshake, CancellationToken cancellationToken)
    {
        bool accepted;
        try
        {
            accepted = await handshake.WaitAsync(_http.RequestAborted).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_http.RequestAborted.IsCancellationRequested)
        {
            return Gone(1006);
        }

        return accepted ? await ReadAsync(cancellationToken).ConfigureAwait(false) : Gone(_refusedCode);
    }

    /// <summary>Reads the next message; a read still pending is remembered, so that <see cref="CompleteAsync"/>
    /// waits for it rather than reading beside it.</summary>
    private ValueTask<WebSocketEvent> ReadAsync(CancellationToken cancellationToken)
    {
        var read = ReadMessageAsync(cancellationToken);
        if (!read.IsCompleted)
        {
            _pendingRead = read;
        }

        return new ValueTask<WebSocketEvent>(read);
    }

    /// <summary>Waits for the next frame without holding a buffer, then reads its message. Kept small (a task,
    /// whose awaiters are small): this is what an idle connection holds.</summary>
    private async Task<WebSocketEvent> ReadMessageAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                // The zero-byte read returns once a frame header arrived, without consuming its payload.
                var probe = await _socket!.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                if (probe.MessageType == WebSocketMessageType.Close)
                {
                    return await OnCloseReceivedAsync(_socket).ConfigureAwait(false);
                }

                if (probe.EndOfMessage)
                {
                    // An empty message: the probe consumed all of it.
                    if (_closeSent)
                    {
                        continue;
                    }

                    return probe.MessageType == WebSocketMessageType.Text ? WebSocketEvent.FromText("") : WebSocketEvent.FromBytes([]);
                }

                var message = await ReadPayloadAsync(probe.MessageType, cancellationToken).ConfigureAwait(false);
                if (message is { } e)
                {
                    return e;
                }
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted)
        {
            // A protocol violation (bad frame header, bad close frame): the WebSocket has sent close 1002.
            WebSocketSessionLog.ProtocolError(_logger, _http.Request.Path, ex.Message);
            return Gone(1002);
        }
        catch (Exception ex) when (IsConnectionError(ex) || ex is OperationCanceledException)
        {
            return Gone(1006);
        }
    }

    /// <summary>Reads the payload of the message whose first frame arrived; null when it was dropped (the server closed).</summary>
    private async Task<WebSocketEvent?> ReadPayloadAsync(WebSocketMessageType type, CancellationToken cancellationToken)
    {
        var socket = _socket!;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(FirstBufferSize, _options.MaxIncomingMessageSize + 1));
        var count = 0;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, _options.MaxIncomingMessageSize + 1L));
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return await OnCloseReceivedAsync(socket).ConfigureAwait(false);
                }

                if (_closeSent)
                {
                    // The server closed: what the client sent before it read the close frame is dropped.
                    count = 0;
                    if (result.EndOfMessage)
                    {
                        return null;
                    }

                    continue;
                }

                count += result.Count;
                if (count > _options.MaxIncomingMessageSize)
                {
                    WebSocketSessionLog.TooBig(_logger, _http.Request.Path, _options.MaxIncomingMessageSize);
                    await CloseAsync(1009, "Message too big").ConfigureAwait(false);
                    return Gone(1009);
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (type == WebSocketMessageType.Binary)
                {
                    return WebSocketEvent.FromBytes(buffer.AsSpan(0, count).ToArray());
                }

                string text;
                try
                {
                    text = s_strictUtf8.GetString(buffer, 0, count);
                }
                catch (DecoderFallbackException)
                {
                    WebSocketSessionLog.InvalidUtf8(_logger, _http.Request.Path);
                    await CloseAsync(1007, "Invalid UTF-8 in text frame").ConfigureAwait(false);
                    return Gone(1007);
                }

                return WebSocketEvent.FromText(text);
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted && type == WebSocketMessageType.Text)
        {
            // The WebSocket validates text as it reads it: it has already sent close 1007 (Invalid Payload Data).
            WebSocketSessionLog.InvalidUtf8(_logger, _http.Request.Path);
            return Gone(1007);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<WebSocketEvent> OnCloseReceivedAsync(WebSocket socket)
    {
        _closeTimer?.Dispose();
        _outbox?.Close(); // The client closed: what still waits for it is dropped.
        var code = socket.CloseStatus is { } status ? (int)status : 1005;
        if (socket.State == WebSocketState.CloseReceived)
        {
            await _sendLock.WaitAsync().ConfigureAwait(false);
            try
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                WebSocketSessionLog.SendFailed(_logger, ex.Message);
            }
            finally
            {
                _sendLock.Release();
            }
        }

        return Gone(code);
    }

    /// <summary>Reads and drops what the client sends until its close frame (or the close timer drops it).
    /// A read the application left pending is waited for first: it drops messages itself once the close is sent.</summary>
    private async ValueTask DrainAsync(WebSocket socket)
    {
        if (_pendingRead is { IsCompleted: false } pending)
        {
            await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(256);
        try
        {
            while (socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (IsConnectionError(ex) || ex is OperationCanceledException)
        {
            // Dropped by the close timer, or the client left: the connection is over either way.
        }
        finally
        {
            _closeTimer?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The open socket's outbox; null when the socket closed (a send is then dropped, as Django does: the
    /// consumer hears of the close separately).</summary>
    /// <exception cref="InvalidOperationException">The WebSocket was not accepted yet.</exception>
    private WebSocketOutbox? Outbox()
    {
        if (_state == HandshakeState.Pending)
        {
            throw new InvalidOperationException("Cannot send on a WebSocket before it is accepted; call Accept first.");
        }

        if (_socket is not { State: WebSocketState.Open } socket)
        {
            return null;
        }

        // Made on the first send: a connection that is only ever sent to by broadcasts still gets one, but an
        // idle one holds none.
        return _outbox ?? Interlocked.CompareExchange(ref _outbox, new WebSocketOutbox(socket, _http.Features.Get<IHttpUpgradeFeature>() as CoalescingStream, _options, _time, this), null) ?? _outbox;
    }

    void IOutboxOwner.OnWriteFailed(Exception ex)
    {
        if (IsConnectionError(ex) || ex is InvalidOperationException or OperationCanceledException)
        {
            WebSocketSessionLog.SendFailed(_logger, ex.Message); // The reader reports the disconnect.
            return;
        }

        WebSocketSessionLog.WriteFailed(_logger, ex, _http.Request.Path);
        _socket?.Abort();
    }

    /// <summary>The client left the outgoing budget spent for SlowClientTimeout: close it with 1008, at once (abort)
    /// when a write to it is stuck, since it would not read the close frame either.</summary>
    void IOutboxOwner.OnSlowClient(int messages, long bytes)
    {
        _abortCode = 1008;
        WebSocketSessionLog.SlowClient(_logger, _http.Request.Path, _options.SlowClientTimeout.TotalSeconds, messages, bytes);
        ChannelsMetrics.SlowClientsClosed.Add(1);
        ChannelsMetrics.SlowClientMessagesDropped.Add(messages);
        if (_outbox!.IsWriting)
        {
            _socket!.Abort();
            return;
        }

        _ = CloseQuietlyAsync(1008, "Client too slow: outgoing budget spent");
    }

    /// <summary>Closes from the server's side (a slow client, the server stopping); a connection already gone is only logged.</summary>
    private async Task CloseQuietlyAsync(int code, string reason)
    {
        try
        {
            await CloseAsync(code, reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionError(ex) || ex is InvalidOperationException or OperationCanceledException)
        {
            WebSocketSessionLog.SendFailed(_logger, ex.Message);
        }
    }

    /// <summary>Moves a pending handshake to refused. <paramref name="serverStatus"/>: the server refuses it
    /// itself, and the status is kept (for <see cref="WriteServerRefusalAsync"/>) before the application can hear of the refusal.</summary>
    private bool TryRefuse(int disconnectCode, int? serverStatus = null)
    {
        lock (this)
        {
            if (_state != HandshakeState.Pending)
            {
                return false;
            }

            _state = HandshakeState.Refused;
            _refusedCode = disconnectCode;
            if (serverStatus is { } status)
            {
                Volatile.Write(ref _serverRefusalStatus, status);
            }
        }

        Interlocked.Exchange(ref _handshakeTimer, null)?.Dispose();
        SettleHandshake(false);
        return true;
    }

    /// <summary>Completes the handshake's waiters, then lets it go: a settled session reads its state instead.</summary>
    private void SettleHandshake(bool accepted)
    {
        if (Interlocked.Exchange(ref _handshake, null) is { } handshake)
        {
            handshake.TrySetResult(accepted);
        }
    }

    private async Task RespondAsync(int statusCode)
    {
        if (!_http.Response.HasStarted)
        {
            _http.Response.StatusCode = statusCode;
            _http.Response.ContentLength = 0;
            await _http.Response.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void OnHandshakeTimeout()
    {
        if (!TryRefuse(1011, StatusCodes.Status500InternalServerError))
        {
            return;
        }

        WebSocketSessionLog.HandshakeTimeout(_logger, _http.Request.Path, _options.HandshakeTimeout.TotalSeconds);

        // The connection is over for the application: a consumer still in connect is told.
        _ = CancelQuietlyAsync();
    }

    private Task OnStoppingAsync() =>
        TryRefuse(1001, StatusCodes.Status503ServiceUnavailable) ? CancelQuietlyAsync() : CloseQuietlyAsync(1001, "Server shutting down");

    private async Task CancelQuietlyAsync()
    {
        try
        {
            await _aborted.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The request already ended.
        }
    }

    private WebSocketEvent Gone(int code)
    {
        if (code == 1006 && _abortCode != 0)
        {
            code = _abortCode; // The server dropped the connection on purpose (a slow client): say why.
        }

        _goneCode = code;
        return WebSocketEvent.Disconnected(code);
    }

    private void CheckSubprotocol(string? subprotocol)
    {
        if (subprotocol is not null && !_http.WebSockets.WebSocketRequestedProtocols.Contains(subprotocol, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"The subprotocol '{subprotocol}' was not offered by the client (it offered: {string.Join(", ", _http.WebSockets.WebSocketRequestedProtocols.DefaultIfEmpty("none"))}); choose one of Scope.Subprotocols.",
                nameof(subprotocol));
        }
    }

    private static bool IsConnectionError(Exception ex) =>
        ex is WebSocketException or IOException or ObjectDisposedException;
}
