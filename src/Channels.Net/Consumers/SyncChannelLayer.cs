using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>
/// A channel layer called synchronously, as the tutorial does with <c>async_to_sync</c>: each
/// method blocks until the layer's asynchronous method completes. Given to sync consumers as
/// their <c>ChannelLayer</c>; <see cref="Async"/> is the layer itself.
/// </summary>
public sealed class SyncChannelLayer
{
    internal SyncChannelLayer(IChannelLayer layer)
    {
        Async = layer;
    }

    /// <summary>The asynchronous layer underneath.</summary>
    public IChannelLayer Async { get; }

    /// <summary>Blocking <see cref="IChannelLayer.SendAsync"/>; <paramref name="message"/> may be any object <see cref="ChannelMessage.From"/> accepts.</summary>
    public void Send(string channel, object message) => Wait(Async.SendAsync(channel, ChannelMessage.From(message)));

    /// <summary>Blocking <see cref="IChannelLayer.ReceiveAsync"/>.</summary>
    public ChannelMessage Receive(string channel, CancellationToken cancellationToken = default) => Wait(Async.ReceiveAsync(channel, cancellationToken));

    /// <summary>Blocking <see cref="IChannelLayer.NewChannelAsync"/>.</summary>
    public string NewChannel(string prefix = "specific") => Wait(Async.NewChannelAsync(prefix));

    /// <summary>Blocking <see cref="IChannelLayer.GroupAddAsync"/>.</summary>
    public void GroupAdd(string group, string channel) => Wait(Async.GroupAddAsync(group, channel));

    /// <summary>Blocking <see cref="IChannelLayer.GroupDiscardAsync"/>.</summary>
    public void GroupDiscard(string group, string channel) => Wait(Async.GroupDiscardAsync(group, channel));

    /// <summary>Blocking <see cref="IChannelLayer.GroupSendAsync"/>; <paramref name="message"/> may be any object <see cref="ChannelMessage.From"/> accepts.</summary>
    public void GroupSend(string group, object message) => Wait(Async.GroupSendAsync(group, ChannelMessage.From(message)));

    /// <summary>Blocking <see cref="IChannelLayer.FlushAsync"/>.</summary>
    public void Flush() => Wait(Async.FlushAsync());

    /// <summary>Blocks until <paramref name="task"/> completes (the sync flavour's <c>async_to_sync</c>).</summary>
    internal static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
    }

    private static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
