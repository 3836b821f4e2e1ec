using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// A WebSocket served by ASP.NET Core, as an <see cref="IWebSocketSession"/>. The handshake waits
/// for the application: it is completed by <see cref="AcceptAsync"/> or answered with an HTTP
/// status by <see cref="CloseAsync"/> / <see cref="RejectAsync"/> (daphne's behaviour).
/// </summary>
/// <remarks>
/// Incoming messages are limited to <see cref="ChannelsOptions.MaxIncomingMessageSize"/> (close 1009)
/// and text must be valid UTF-8 (close 1007). While idle, a connection holds no receive buffer: it
/// waits with a zero-byte read and rents a buffer only when a message arrives.
/// </remarks>
internal sealed partial class AspNetWebSocketSession : IWebSocketSession, IAsyncDisposable
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly HttpContext _http;
    private readonly ChannelsOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<bool> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private WebSocket? _socket;
    private HandshakeState _state;
    private bool _connectDelivered;
    private WebSocketEvent? _disconnect;
    private int _refusedCode = 1000;
    private CancellationTokenSource? _closeTimeout;
    private Timer? _handshakeTimer;

    public AspNetWebSocketSession(HttpContext http, ChannelsOptions options, ILogger logger)
    {
        _http = http;
        _options = options;
        _logger = logger;
    }

    private enum HandshakeState
    {
        Pending,
        Accepted,
        Refused,
    }

    /// <summary>Set when the application found no route: the middleware passes the request on.</summary>
    public bool NotFound { get; private set; }

    /// <summary>True once the handshake was answered (accepted or refused).</summary>
    public bool HandshakeDone => _handshake.Task.IsCompleted;

    public bool IsAccepted => _state == HandshakeState.Accepted;

    public CancellationToken Aborted => _http.RequestAborted;

    /// <summary>Refuses the handshake (HTTP 500, logged) if the application has not answered it in time.</summary>
    public void StartHandshakeTimer()
    {
        _handshakeTimer = new Timer(
            static state => _ = ((AspNetWebSocketSession)state!).OnHandshakeTimeoutAsync(),
            this,
            _options.HandshakeTimeout,
            Timeout.InfiniteTimeSpan);
    }

    public async ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_disconnect is { } gone)
        {
            return gone;
        }

        if (!_connectDelivered)
        {
            _connectDelivered = true;
            return WebSocketEvent.Connect;
        }

        bool accepted;
        try
        {
            accepted = await _handshake.Task.WaitAsync(_http.RequestAborted).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_http.RequestAborted.IsCancellationRequested)
        {
            return Gone(1006);
        }

        return accepted ? await ReadMessageAsync(cancellationToken).ConfigureAwait(false) : Gone(_refusedCode);
    }

    public async ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        lock (_stateLock)
        {
            if (_state != HandshakeState.Pending)
            {
                throw new InvalidOperationException(_state == HandshakeState.Accepted
                    ? "The WebSocket was already accepted."
                    : "The WebSocket handshake was already refused; it cannot be accepted.");
            }

            _state = HandshakeState.Accepted;
        }

        _handshakeTimer?.Dispose();
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
            _handshake.TrySetResult(false);
            throw;
        }

        _handshake.TrySetResult(true);
    }

    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        var length = Encoding.UTF8.GetBytes(text, buffer);
        return SendPooledAsync(buffer, length, WebSocketMessageType.Text, cancellationToken);
    }

    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length, 1));
        bytes.Span.CopyTo(buffer);
        return SendPooledAsync(buffer, bytes.Length, WebSocketMessageType.Binary, cancellationToken);
    }

    public async ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        var status = code ?? 1000;
        CheckCloseCode(status);
        if (TryRefuse(status))
        {
            await RespondAsync(StatusCodes.Status403Forbidden).ConfigureAwait(false);
            LogRefused(_logger, _http.Request.Path, StatusCodes.Status403Forbidden, "the consumer closed before accepting");
            return;
        }

        var socket = _socket;
        if (socket is null || socket.State != WebSocketState.Open)
        {
            return;
        }

        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseOutputAsync((WebSocketCloseStatus)status, TrimReason(reason), cancellationToken).ConfigureAwait(false);
                _closeTimeout = new CancellationTokenSource(_options.CloseTimeout);
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            LogSendFailed(_logger, ex.Message);
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
            LogRefused(_logger, _http.Request.Path, statusCode, reason);
            return;
        }

        if (IsAccepted)
        {
            await CloseAsync(statusCode is >= 400 and < 500 ? 1008 : 1011, reason).ConfigureAwait(false);
        }
    }

    /// <summary>After the application returned: an open socket is closed normally, an unanswered handshake refused.</summary>
    public async ValueTask CompleteAsync()
    {
        if (TryRefuse(1011))
        {
            await RespondAsync(StatusCodes.Status500InternalServerError).ConfigureAwait(false);
            LogNoAnswer(_logger, _http.Request.Path);
            return;
        }

        if (_socket is { State: WebSocketState.Open })
        {
            await CloseAsync(1000).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _handshakeTimer?.Dispose();
        _closeTimeout?.Dispose();
        _socket?.Dispose();
        _sendLock.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private async ValueTask<WebSocketEvent> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var socket = _socket!;
        byte[]? buffer = null;
        var count = 0;
        try
        {
            while (true)
            {
                using var closing = _closeTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closeTimeout.Token);
                var token = closing?.Token ?? cancellationToken;
                if (buffer is null)
                {
                    // Idle: wait for the next frame without holding a buffer.
                    var probe = await socket.ReceiveAsync(Memory<byte>.Empty, token).ConfigureAwait(false);
                    if (probe.MessageType == WebSocketMessageType.Close)
                    {
                        return await OnCloseReceivedAsync(socket).ConfigureAwait(false);
                    }

                    buffer = ArrayPool<byte>.Shared.Rent(4096);
                }

                if (count == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxIncomingMessageSize + 1));
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(count), token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return await OnCloseReceivedAsync(socket).ConfigureAwait(false);
                }

                count += result.Count;
                if (count > _options.MaxIncomingMessageSize)
                {
                    LogTooBig(_logger, _http.Request.Path, _options.MaxIncomingMessageSize);
                    await CloseAsync(1009, "Message too big").ConfigureAwait(false);
                    return Gone(1009);
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
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
                    LogInvalidUtf8(_logger, _http.Request.Path);
                    await CloseAsync(1007, "Invalid UTF-8 in text frame").ConfigureAwait(false);
                    return Gone(1007);
                }

                return WebSocketEvent.FromText(text);
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted && socket.CloseStatus == WebSocketCloseStatus.InvalidPayloadData)
        {
            LogInvalidUtf8(_logger, _http.Request.Path);
            return Gone(1007);
        }
        catch (Exception ex) when (IsConnectionError(ex) || ex is OperationCanceledException)
        {
            if (_closeTimeout?.IsCancellationRequested == true)
            {
                _http.Abort(); // The client never answered our close frame.
            }

            return Gone(socket.CloseStatus is { } status ? (int)status : 1006);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async ValueTask<WebSocketEvent> OnCloseReceivedAsync(WebSocket socket)
    {
        var code = socket.CloseStatus is { } status ? (int)status : 1005;
        if (socket.State == WebSocketState.CloseReceived)
        {
            await _sendLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                LogSendFailed(_logger, ex.Message);
            }
            finally
            {
                _sendLock.Release();
            }
        }

        return Gone(code);
    }

    private ValueTask SendPooledAsync(byte[] buffer, int length, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        var socket = _socket;
        if (socket is null || socket.State != WebSocketState.Open)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (_state == HandshakeState.Pending)
            {
                throw new InvalidOperationException("Cannot send on a WebSocket before it is accepted; call Accept first.");
            }

            return ValueTask.CompletedTask; // Closed: dropped, as Django does; the consumer hears of the close separately.
        }

        if (_sendLock.Wait(0))
        {
            ValueTask send;
            try
            {
                send = socket.SendAsync(buffer.AsMemory(0, length), type, endOfMessage: true, cancellationToken);
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                _sendLock.Release();
                ArrayPool<byte>.Shared.Return(buffer);
                LogSendFailed(_logger, ex.Message);
                return ValueTask.CompletedTask;
            }

            if (send.IsCompletedSuccessfully)
            {
                _sendLock.Release();
                ArrayPool<byte>.Shared.Return(buffer);
                return ValueTask.CompletedTask;
            }

            return FinishSendAsync(send, buffer);
        }

        return SendSlowAsync(socket, buffer, length, type, cancellationToken);
    }

    private async ValueTask FinishSendAsync(ValueTask send, byte[] buffer)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            LogSendFailed(_logger, ex.Message);
        }
        finally
        {
            _sendLock.Release();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask SendSlowAsync(WebSocket socket, byte[] buffer, int length, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        try
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(buffer.AsMemory(0, length), type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            LogSendFailed(_logger, ex.Message);
        }
        finally
        {
            _sendLock.Release();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private bool TryRefuse(int disconnectCode)
    {
        lock (_stateLock)
        {
            if (_state != HandshakeState.Pending)
            {
                return false;
            }

            _state = HandshakeState.Refused;
            _refusedCode = disconnectCode;
        }

        _handshakeTimer?.Dispose();
        _handshake.TrySetResult(false);
        return true;
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

    private async Task OnHandshakeTimeoutAsync()
    {
        try
        {
            if (TryRefuse(1011))
            {
                LogHandshakeTimeout(_logger, _http.Request.Path, _options.HandshakeTimeout.TotalSeconds);
                await RespondAsync(StatusCodes.Status500InternalServerError).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            LogSendFailed(_logger, ex.Message);
        }
    }

    private WebSocketEvent Gone(int code)
    {
        var gone = WebSocketEvent.Disconnected(code);
        _disconnect = gone;
        return gone;
    }

    private static bool IsConnectionError(Exception ex) =>
        ex is WebSocketException or IOException or ObjectDisposedException;

    private static void CheckCloseCode(int code)
    {
        if (code is not (1000 or (>= 1001 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999)))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "A WebSocket close code must be 1000-1003, 1007-1014 or 3000-4999.");
        }
    }

    private static string? TrimReason(string? reason)
    {
        if (reason is null || Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }

        var end = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > 123)
        {
            end--;
        }

        return reason[..end];
    }

    [LoggerMessage(200, LogLevel.Information, "WebSocket handshake for {Path} refused with {StatusCode}: {Reason}.")]
    private static partial void LogRefused(ILogger logger, PathString path, int statusCode, string reason);

    [LoggerMessage(201, LogLevel.Warning, "The consumer for {Path} ended without accepting or refusing the WebSocket; refused with 500.")]
    private static partial void LogNoAnswer(ILogger logger, PathString path);

    [LoggerMessage(202, LogLevel.Warning, "The consumer for {Path} did not accept or refuse the WebSocket within {Seconds} s; refused with 500.")]
    private static partial void LogHandshakeTimeout(ILogger logger, PathString path, double seconds);

    [LoggerMessage(203, LogLevel.Information, "A message on {Path} exceeded {Limit} bytes; closing with 1009.")]
    private static partial void LogTooBig(ILogger logger, PathString path, int limit);

    [LoggerMessage(204, LogLevel.Information, "A text frame on {Path} was not valid UTF-8; closing with 1007.")]
    private static partial void LogInvalidUtf8(ILogger logger, PathString path);

    [LoggerMessage(205, LogLevel.Debug, "A WebSocket send failed because the connection is gone: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, string reason);
}
