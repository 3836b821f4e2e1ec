namespace Channels.Net.Layers.InMemory;

/// <summary>
/// A layer whose receives can be held by a call instead of a task (<see cref="ILayerMessageReceiver"/>): the
/// in-memory layer, and the Redis layer for its process-local channels (whose buffers are in-memory channels). A
/// consumer's inbox listens this way, so a message reaches it on the deliverer's thread, with no thread-pool hop.
/// </summary>
internal interface IListeningChannelLayer
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
