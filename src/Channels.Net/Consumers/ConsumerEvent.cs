using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>What a consumer's ordered loop handles next: a client event or a channel-layer message.</summary>
internal readonly struct ConsumerEvent
{
    private ConsumerEvent(WebSocketEvent webSocket, ChannelMessage? message, byte[]? body, TaskCompletionSource? handled = null)
    {
        WebSocket = webSocket;
        Message = message;
        Body = body;
        Handled = handled;
    }

    /// <summary>The client event, when <see cref="Message"/> and <see cref="Body"/> are null.</summary>
    public WebSocketEvent WebSocket { get; }

    /// <summary>A channel-layer (or worker) message.</summary>
    public ChannelMessage? Message { get; }

    /// <summary>A complete HTTP request body.</summary>
    public byte[]? Body { get; }

    /// <summary>For a worker's message: completed when its handler returned.</summary>
    public TaskCompletionSource? Handled { get; }

    public static ConsumerEvent FromClient(WebSocketEvent e) => new(e, null, null);

    public static ConsumerEvent FromLayer(ChannelMessage message) => new(default, message, null);

    /// <summary>A message of a worker's channel; <paramref name="handled"/> completes once its handler returned.</summary>
    public static ConsumerEvent FromWorker(ChannelMessage message, TaskCompletionSource handled) => new(default, message, null, handled);

    public static ConsumerEvent FromRequestBody(byte[] body) => new(default, null, body);

    /// <summary>The event's type, for logs.</summary>
    public string Describe() =>
        Message is not null ? Message.Type
        : Body is not null ? "http.request"
        : WebSocket.Kind switch
        {
            WebSocketEventKind.Connect => "websocket.connect",
            WebSocketEventKind.Receive => "websocket.receive",
            _ => "websocket.disconnect",
        };
}
