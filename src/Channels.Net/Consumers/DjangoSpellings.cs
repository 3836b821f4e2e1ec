using System.ComponentModel;

namespace Channels.Net.Consumers;

/// <summary>Django's spelling of <see cref="WebSocketConsumer"/>, kept so code ported as written still compiles.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class WebsocketConsumer : WebSocketConsumer;

/// <summary>Django's spelling of <see cref="AsyncWebSocketConsumer"/>, kept so code ported as written still compiles.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class AsyncWebsocketConsumer : AsyncWebSocketConsumer;

/// <summary>Django's spelling of <see cref="JsonWebSocketConsumer"/>, kept so code ported as written still compiles.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class JsonWebsocketConsumer : JsonWebSocketConsumer;

/// <summary>Django's spelling of <see cref="AsyncJsonWebSocketConsumer"/>, kept so code ported as written still compiles.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class AsyncJsonWebsocketConsumer : AsyncJsonWebSocketConsumer;
