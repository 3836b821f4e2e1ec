using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>
/// The generic synchronous consumer (Django's <c>SyncConsumer</c>): handlers are plain methods,
/// run one at a time per consumer on a thread-pool thread (never the request thread), and the
/// channel layer is called synchronously. The asynchronous flavour, <see cref="AsyncConsumer"/>,
/// is the fast path; this one keeps code that blocks (a database call, a file) simple.
/// </summary>
public abstract class SyncConsumer : ConsumerBase
{
    private SyncChannelLayer? _syncLayer;

    /// <summary>The channel layer, with blocking methods (the tutorial's <c>async_to_sync(self.channel_layer.group_add)</c>).</summary>
    /// <exception cref="Layers.Configuration.InvalidChannelLayerException">No channel layer is configured.</exception>
    public SyncChannelLayer ChannelLayer => _syncLayer ??= new SyncChannelLayer(AsyncLayer);

    /// <summary>Sends a raw ASGI-style event to the client (Django's <c>base_send</c>) and waits until it is sent.</summary>
    protected void BaseSend(object message) => BaseSendCoreAsync(ChannelMessage.From(message)).AsTask().GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="task"/> to completion on this thread (the tutorial's <c>async_to_sync</c>).</summary>
    protected static void AsyncToSync(Func<Task> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        task().GetAwaiter().GetResult();
    }
}
