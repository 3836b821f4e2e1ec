using Channels.Net.Layers;

namespace Channels.Net.Hosting.Workers;

/// <summary>A named channel served by a worker: its messages come straight from the layer; a receive ends when the worker stops.</summary>
internal sealed class LayerWorkerSession(IChannelLayer layer, string channel, CancellationToken stopping) : IWorkerSession
{
    public CancellationToken Aborted => stopping;

    public async ValueTask<ChannelMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (!cancellationToken.CanBeCanceled || cancellationToken == stopping)
        {
            return await layer.ReceiveAsync(channel, stopping).ConfigureAwait(false);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        return await layer.ReceiveAsync(channel, linked.Token).ConfigureAwait(false);
    }

    public ValueTask RejectAsync(int statusCode, string reason) =>
        throw new InvalidOperationException($"The worker application refused channel '{channel}' ({statusCode}: {reason}); is the channel in its ChannelNameRouter?");
}
