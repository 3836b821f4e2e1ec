namespace Channels.Net.Testing;

/// <summary>What a WebSocket application did, as a <see cref="WebSocketCommunicator"/> observes it.</summary>
public enum WebsocketOutputKind
{
    /// <summary>It accepted the connection.</summary>
    Accept,

    /// <summary>It sent a message.</summary>
    Send,

    /// <summary>It closed the connection (or refused the handshake).</summary>
    Close,
}

/// <summary>One action of the application: an accept (with subprotocol and headers), a message, or a close.</summary>
public sealed record WebSocketOutput(
    WebsocketOutputKind Kind,
    string? Text = null,
    byte[]? Bytes = null,
    int? Code = null,
    string? Reason = null,
    string? Subprotocol = null,
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    int? HttpStatus = null);

/// <summary>The result of <see cref="WebSocketCommunicator.ConnectAsync"/>: Django's <c>(connected, subprotocol_or_close_code)</c>.</summary>
/// <param name="Connected">True when the application accepted.</param>
/// <param name="Subprotocol">The subprotocol it chose, when accepted.</param>
/// <param name="CloseCode">The close code, when refused by a close.</param>
/// <param name="HttpStatus">The HTTP status of the refusal (403 for a close before accept, 404 for no route, ...).</param>
public sealed record ConnectResult(bool Connected, string? Subprotocol, int? CloseCode, int? HttpStatus);
