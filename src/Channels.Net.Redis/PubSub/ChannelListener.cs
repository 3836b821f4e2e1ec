using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Channels.Net.Redis.PubSub;

/// <summary>
/// What a <see cref="LocalChannel"/>'s buffer hands a message to while an inbox listens on the channel: it forwards the
/// message (or the receive's error) to that inbox, once, after telling the layer the listen ended (so a listen ended by
/// cancellation starts the channel's release delay, as a cancelled receive does). One per channel, made with it, so a
/// listen allocates nothing.
/// </summary>
internal sealed class ChannelListener(LocalChannel channel) : ILayerMessageReceiver
{
    private RedisPubSubChannelLayer? _layer;
    private ILayerMessageReceiver? _receiver;
    private CancellationToken _cancellationToken;

    /// <summary>Takes <paramref name="receiver"/> on; false while another listen is in progress. Called under the layer's state lock.</summary>
    public bool TryArm(RedisPubSubChannelLayer layer, ILayerMessageReceiver receiver, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _receiver) is not null)
        {
            return false;
        }

        // Written before the receiver is published: a callback that finds the receiver finds these too.
        _layer = layer;
        _cancellationToken = cancellationToken;
        return Interlocked.CompareExchange(ref _receiver, receiver, null) is null;
    }

    /// <summary>The listen ended without the buffer calling back (a message was waiting, or the listen failed).</summary>
    public void Disarm() => Volatile.Write(ref _receiver, null);

    public void OnLayerMessage(ChannelMessage message)
    {
        if (Interlocked.Exchange(ref _receiver, null) is not { } receiver)
        {
            return;
        }

        _layer!.EndListen(channel, cancelled: false);
        receiver.OnLayerMessage(message);
    }

    public void OnLayerError(Exception exception)
    {
        var cancelled = exception is OperationCanceledException && _cancellationToken.IsCancellationRequested;
        if (Interlocked.Exchange(ref _receiver, null) is not { } receiver)
        {
            return;
        }

        _layer!.EndListen(channel, cancelled);
        receiver.OnLayerError(exception);
    }
}
