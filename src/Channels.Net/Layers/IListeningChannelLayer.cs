namespace Channels.Net.Layers;

/// <summary>
/// A capability a channel layer may offer beside <see cref="IChannelLayer"/>: a receive held by a call instead of a
/// task (<see cref="ILayerMessageReceiver"/>). Consumers use it when their layer offers it, so a message reaches the
/// consumer on the thread that delivers it, with no task and no thread-pool hop per message; otherwise they await
/// <see cref="IChannelLayer.ReceiveAsync"/>. The in-memory layer, the Redis layer (for its process-local channels)
/// and the Redis pub/sub layer implement it.
/// </summary>
/// <remarks>
/// <para><b>For backend authors.</b> The contract, per channel: one receiver listens at a time (a consumer's own
/// channel); a listening call either returns a waiting message or registers the receiver, which is then given
/// <b>exactly one</b> call, <see cref="ILayerMessageReceiver.OnLayerMessage"/> with the next message or
/// <see cref="ILayerMessageReceiver.OnLayerError"/> (cancelled, or the layer was disposed), on any thread; the
/// receiver listens again for the message after that. Messages keep their order and none is lost or given twice
/// between a listener and <see cref="IChannelLayer.ReceiveAsync"/>. While a receiver listens with
/// <c>room</c> > 0, the channel may hold more than its capacity for it (up to <c>room</c>): the consumer has taken
/// budget for them; <see cref="StopListening"/> ends that allowance.</para>
/// </remarks>
public interface IListeningChannelLayer
{
    /// <summary>
    /// False when <paramref name="channel"/> cannot be listened to (the caller then awaits
    /// <see cref="IChannelLayer.ReceiveAsync"/>). Otherwise true, with the next message if one waits, or null: then
    /// <paramref name="receiver"/> gets the next one (or the receive's error) when it comes, once.
    /// </summary>
    /// <param name="channel">The channel to receive on.</param>
    /// <param name="receiver">Given the next message when nothing waits now.</param>
    /// <param name="room">How many more messages the receiver can take into its own budget: while it listens, the
    /// channel holds up to that many (or its capacity, if larger) for it, until <see cref="StopListening"/>.</param>
    /// <param name="cancellationToken">Cancels the listening (the receiver gets an <see cref="OperationCanceledException"/>).</param>
    /// <param name="message">The message that was waiting, or null.</param>
    bool TryReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken, out ChannelMessage? message);

    /// <summary>The receiver paused (its budget is spent): the channel's capacity applies again.</summary>
    void StopListening(string channel);
}
