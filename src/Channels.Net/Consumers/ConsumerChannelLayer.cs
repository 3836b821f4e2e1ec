using Channels.Net.Layers;
using Channels.Net.Internal;

namespace Channels.Net.Consumers;

/// <summary>
/// The layer as one consumer sees it: every call goes to the real layer, and the groups this
/// consumer's channel joins are remembered, so they are all left when the consumer ends —
/// however it ends (disconnect, error, server shutdown).
/// </summary>
internal sealed class ConsumerChannelLayer(IChannelLayer inner, string channelName) : IChannelLayer
{
    // Usually one group: a small inline set under a lock costs far less per connection than a concurrent dictionary.
    private NameSet _groups;

    public IChannelLayer Inner { get; } = inner;

    /// <summary>The consumer's channel.</summary>
    public string ChannelName => channelName;

    public ChannelLayerExtensions Extensions => Inner.Extensions;

    public ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default) =>
        Inner.SendAsync(channel, message, cancellationToken);

    public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default) =>
        Inner.ReceiveAsync(channel, cancellationToken);

    public ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default) =>
        Inner.NewChannelAsync(prefix, cancellationToken);

    public async ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        await Inner.GroupAddAsync(group, channel, cancellationToken).ConfigureAwait(false);
        if (string.Equals(channel, channelName, StringComparison.Ordinal))
        {
            lock (this)
            {
                _groups.Add(group);
            }
        }
    }

    public async ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        await Inner.GroupDiscardAsync(group, channel, cancellationToken).ConfigureAwait(false);
        if (string.Equals(channel, channelName, StringComparison.Ordinal))
        {
            lock (this)
            {
                _groups.Remove(group);
            }
        }
    }

    public ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default) =>
        Inner.GroupSendAsync(group, message, cancellationToken);

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => Inner.FlushAsync(cancellationToken);

    /// <summary>Leaves every group this consumer's channel is still in.</summary>
    public async ValueTask LeaveAllGroupsAsync()
    {
        string[] groups;
        lock (this)
        {
            groups = _groups.ToArray();
            _groups.Clear();
        }

        foreach (var group in groups)
        {
            await Inner.GroupDiscardAsync(group, channelName).ConfigureAwait(false);
        }
    }

    /// <summary>A consumer does not own the layer: disposing its view does nothing.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
