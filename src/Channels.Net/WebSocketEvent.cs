namespace Channels.Net;

/// <summary>What happened on a WebSocket, as <see cref="IWebSocketSession.ReceiveAsync"/> reports it.</summary>
public enum WebSocketEventKind
{
    /// <summary>The client asks to connect (ASGI <c>websocket.connect</c>); always the first event.</summary>
    Connect,

    /// <summary>A complete message from the client (ASGI <c>websocket.receive</c>).</summary>
    Receive,

    /// <summary>The connection is closed (ASGI <c>websocket.disconnect</c>); always the last event.</summary>
    Disconnect,
}

/// <summary>One event of a WebSocket: a connect, a text or binary message, or a disconnect with its close code.</summary>
public readonly record struct WebSocketEvent(WebSocketEventKind Kind, string? Text = null, byte[]? Bytes = null, int Code = 0)
{
    /// <summary>The connect event.</summary>
    public static WebSocketEvent Connect => new(WebSocketEventKind.Connect);

    /// <summary>A text message.</summary>
    public static WebSocketEvent FromText(string text) => new(WebSocketEventKind.Receive, Text: text ?? throw new ArgumentNullException(nameof(text)));

    /// <summary>A binary message.</summary>
    public static WebSocketEvent FromBytes(byte[] bytes) => new(WebSocketEventKind.Receive, Bytes: bytes ?? throw new ArgumentNullException(nameof(bytes)));

    /// <summary>A disconnect with close <paramref name="code"/>.</summary>
    public static WebSocketEvent Disconnected(int code) => new(WebSocketEventKind.Disconnect, Code: code);
}
