namespace Channels.Net.Layers.InMemory;

/// <summary>A receiver that takes an in-memory channel's next message by a call, on the thread that gives it
/// (<see cref="InMemoryChannelLayer.ReceiveOrListen"/>). Both methods must be cheap and must not throw.</summary>
internal interface ILayerMessageReceiver
{
    /// <summary>The channel's next message.</summary>
    void OnLayerMessage(ChannelMessage message);

    /// <summary>The receive failed: cancelled, or the layer closed.</summary>
    void OnLayerError(Exception exception);
}
