namespace Channels.Net.Layers;

/// <summary>
/// A receiver that takes a channel's next message by a call, on the thread that gives it
/// (<see cref="IListeningChannelLayer.TryReceiveOrListen"/>). A consumer implements it; a layer calls one of its two
/// methods once per listening. Both are cheap and do not throw.
/// </summary>
public interface ILayerMessageReceiver
{
    /// <summary>The channel's next message.</summary>
    void OnLayerMessage(ChannelMessage message);

    /// <summary>The receive failed: cancelled, or the layer closed.</summary>
    void OnLayerError(Exception exception);
}
