namespace Channels.Net;

/// <summary>
/// The server side of one WebSocket (ASGI's <c>receive</c> and <c>send</c> for the <c>websocket</c>
/// protocol). Served over Kestrel by <c>MapChannels</c>, and in process by the test communicators.
/// </summary>
/// <remarks>
/// Sends are serialized by the session, so several callers may send at once. A send after the
/// socket closed is dropped silently, as in Django (the consumer learns of the close through the
/// disconnect event).
/// </remarks>
public interface IWebSocketSession : IChannelSession
{
    /// <summary>True once <see cref="AcceptAsync"/> completed.</summary>
    bool IsAccepted { get; }

    /// <summary>
    /// The next event: first <see cref="WebSocketEventKind.Connect"/>, then messages, last
    /// <see cref="WebSocketEventKind.Disconnect"/> (after which it keeps returning the disconnect).
    /// </summary>
    ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Completes the handshake with <paramref name="subprotocol"/> and extra response <paramref name="headers"/>.</summary>
    ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a text message.</summary>
    ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default);

    /// <summary>Sends a binary message.</summary>
    ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Closes the WebSocket with <paramref name="code"/> (1000 when null) and <paramref name="reason"/>.
    /// Before the handshake was accepted, refuses it with HTTP 403 instead (as Django does).
    /// </summary>
    ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default);
}
