using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>What a consumer's ordered loop handles next: a client event or a channel-layer message.</summary>
/// <remarks>Kept small (one payload reference, a kind and a code): the inbox holds one of these even while idle.</remarks>
internal readonly struct ConsumerEvent
{
    private readonly object? _payload;
    private readonly TaskCompletionSource? _handled;
    private readonly int _code;
    private readonly EventKind _kind;

    private ConsumerEvent(EventKind kind, object? payload, int code = 0, TaskCompletionSource? handled = null)
    {
        _kind = kind;
        _payload = payload;
        _code = code;
        _handled = handled;
    }

    private enum EventKind : byte
    {
        Connect,
        Text,
        Bytes,
        Disconnect,
        Layer,
        Worker,
        Body,
    }

    /// <summary>The client event, when <see cref="Message"/> and <see cref="Body"/> are null.</summary>
    public WebSocketEvent WebSocket => _kind switch
    {
        EventKind.Connect => WebSocketEvent.Connect,
        EventKind.Text => WebSocketEvent.FromText((string)_payload!),
        EventKind.Bytes => WebSocketEvent.FromBytes((byte[])_payload!),
        EventKind.Disconnect => WebSocketEvent.Disconnected(_code),
        _ => default,
    };

    /// <summary>True for a message the inbox took from the channel layer.</summary>
    public bool IsFromLayer => _kind == EventKind.Layer;

    /// <summary>A channel-layer (or worker) message.</summary>
    public ChannelMessage? Message => _kind is EventKind.Layer or EventKind.Worker ? (ChannelMessage)_payload! : null;

    /// <summary>A complete HTTP request body.</summary>
    public byte[]? Body => _kind == EventKind.Body ? (byte[])_payload! : null;

    /// <summary>For a worker's message: completed when its handler returned.</summary>
    public TaskCompletionSource? Handled => _handled;

    public static ConsumerEvent FromClient(WebSocketEvent e) => e.Kind switch
    {
        WebSocketEventKind.Connect => new(EventKind.Connect, null),
        WebSocketEventKind.Receive when e.Text is not null => new(EventKind.Text, e.Text),
        WebSocketEventKind.Receive => new(EventKind.Bytes, e.Bytes ?? []),
        _ => new(EventKind.Disconnect, null, e.Code),
    };

    public static ConsumerEvent FromLayer(ChannelMessage message) => new(EventKind.Layer, message);

    /// <summary>A message of a worker's channel; <paramref name="handled"/> completes once its handler returned.</summary>
    public static ConsumerEvent FromWorker(ChannelMessage message, TaskCompletionSource handled) => new(EventKind.Worker, message, handled: handled);

    public static ConsumerEvent FromRequestBody(byte[] body) => new(EventKind.Body, body);

    /// <summary>The event's type, for logs.</summary>
    public string Describe() => _kind switch
    {
        EventKind.Layer or EventKind.Worker => ((ChannelMessage)_payload!).Type,
        EventKind.Body => "http.request",
        EventKind.Connect => "websocket.connect",
        EventKind.Text or EventKind.Bytes => "websocket.receive",
        _ => "websocket.disconnect",
    };
}
