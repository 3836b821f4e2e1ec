using Channels.Net.Layers;

namespace Channels.Net;

/// <summary>The server side of a named channel served by a worker: the messages sent to it.</summary>
public interface IWorkerSession : IChannelSession
{
    /// <summary>The next message sent to the channel.</summary>
    ValueTask<ChannelMessage> ReceiveAsync(CancellationToken cancellationToken = default);
}
