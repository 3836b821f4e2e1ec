using Channels.Net.Layers;

namespace Channels.Net.Hosting.Workers;

/// <summary>A named channel served by a worker: its messages come straight from the layer.</summary>
internal sealed class LayerWorkerSession(IChannelLayer layer, string channel, CancellationToken stopping) : IWorkerSession
{
    public CancellationToken Aborted => stopping;

    public ValueTask<ChannelMessage> ReceiveAsync(CancellationToken cancellationToken = default) => layer.ReceiveAsync(channel, cancellationToken);

    public ValueTask RejectAsync(int statusCode, string reason) =>
        throw new InvalidOperationException($"The worker application refused channel '{channel}' ({statusCode}: {reason}); is the channel in its ChannelNameRouter?");
}
