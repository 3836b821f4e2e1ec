using System.Threading.Channels;

namespace Channels.Net.Testing;

/// <summary>An in-process <see cref="IWebSocketSession"/>: what the test sends arrives as events, what the
/// application does is recorded as <see cref="WebSocketOutput"/>s.</summary>
internal sealed class CommunicatorWebSocketSession(ChannelWriter<WebSocketOutput> output) : IWebSocketSession
{
    private readonly Channel<WebSocketEvent> _input = Channel.CreateUnbounded<WebSocketEvent>();
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _gate = new();
    private WebSocketEvent? _gone;
    private bool _accepted;
    private bool _closed;

    public bool IsAccepted
    {
        get
        {
            lock (_gate)
            {
                return _accepted;
            }
        }
    }

    public CancellationToken Aborted => _aborted.Token;

    /// <summary>True once the client left (<see cref="ClientGone"/>).</summary>
    public bool IsClientGone => _aborted.IsCancellationRequested;

    public void Post(WebSocketEvent e) => _input.Writer.TryWrite(e);

    /// <summary>The client leaves: the application gets a disconnect, and the session stops taking sends.</summary>
    public void ClientGone(int code)
    {
        lock (_gate)
        {
            _closed = true;
        }

        _input.Writer.TryWrite(WebSocketEvent.Disconnected(code));
        _aborted.Cancel();
    }

    public async ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_gone is { } gone)
        {
            return gone;
        }

        var e = await _input.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (e.Kind == WebSocketEventKind.Disconnect)
        {
            _gone = e;
        }

        return e;
    }

    public ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_accepted)
            {
                throw new InvalidOperationException("The WebSocket was already accepted.");
            }

            if (_closed)
            {
                throw new InvalidOperationException("The WebSocket handshake was already refused; it cannot be accepted.");
            }

            _accepted = true;
        }

        output.TryWrite(new WebSocketOutput(WebsocketOutputKind.Accept, Subprotocol: subprotocol, Headers: headers ?? []));
        return ValueTask.CompletedTask;
    }

    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Send(new WebSocketOutput(WebsocketOutputKind.Send, Text: text));
    }

    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        Send(new WebSocketOutput(WebsocketOutputKind.Send, Bytes: bytes.ToArray()));

    public ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        bool accepted;
        lock (_gate)
        {
            if (_closed)
            {
                return ValueTask.CompletedTask;
            }

            _closed = true;
            accepted = _accepted;
        }

        output.TryWrite(new WebSocketOutput(WebsocketOutputKind.Close, Code: code ?? 1000, Reason: reason, HttpStatus: accepted ? null : 403));

        // A real server answers the close; the application then hears of it as a disconnect.
        _input.Writer.TryWrite(WebSocketEvent.Disconnected(code ?? 1000));
        return ValueTask.CompletedTask;
    }

    public ValueTask RejectAsync(int statusCode, string reason)
    {
        bool accepted;
        lock (_gate)
        {
            if (_closed)
            {
                return ValueTask.CompletedTask;
            }

            _closed = true;
            accepted = _accepted;
        }

        var code = statusCode is >= 400 and < 500 ? 1008 : 1011;
        output.TryWrite(new WebSocketOutput(WebsocketOutputKind.Close, Code: code, Reason: reason, HttpStatus: accepted ? null : statusCode));
        _input.Writer.TryWrite(WebSocketEvent.Disconnected(code));
        return ValueTask.CompletedTask;
    }

    private ValueTask Send(WebSocketOutput sent)
    {
        lock (_gate)
        {
            if (!_accepted)
            {
                throw new InvalidOperationException("Cannot send on a WebSocket before it is accepted; call Accept first.");
            }

            if (_closed)
            {
                return ValueTask.CompletedTask; // Dropped after close, as a real server does.
            }
        }

        output.TryWrite(sent);
        return ValueTask.CompletedTask;
    }
}
