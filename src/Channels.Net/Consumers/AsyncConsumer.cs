using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>
/// The generic asynchronous consumer (Django's <c>AsyncConsumer</c>): every event — client events
/// as <c>websocket.connect</c> / <c>websocket.receive</c> / <c>http.request</c> messages, and
/// channel-layer messages — is dispatched by its <c>type</c> to a handler the consumer declares.
/// Use it for workers (<c>ChannelNameRouter</c>) and for raw protocol handling; for WebSockets,
/// <see cref="AsyncWebSocketConsumer"/> is simpler.
/// </summary>
/// <example>
/// <code>
/// public sealed class ThumbnailConsumer : AsyncConsumer
/// {
///     [ChannelEvent("thumbnail.generate")]
///     public Task Generate(GenerateThumbnail job) => ...;
/// }
/// public sealed record GenerateThumbnail(int Id);
/// </code>
/// </example>
public abstract class AsyncConsumer : ConsumerBase
{
    /// <summary>The channel layer (Django's <c>self.channel_layer</c>).</summary>
    /// <exception cref="Layers.Configuration.InvalidChannelLayerException">No channel layer is configured.</exception>
    public IChannelLayer ChannelLayer => AsyncLayer;

    /// <summary>Sends a raw ASGI-style event to the client (Django's <c>base_send</c>), e.g.
    /// <c>new { type = "websocket.accept" }</c>.</summary>
    protected Task BaseSendAsync(object message) => BaseSendCoreAsync(ChannelMessage.From(message)).AsTask();
}
