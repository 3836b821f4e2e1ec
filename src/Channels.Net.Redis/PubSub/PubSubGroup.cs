namespace Channels.Net.Redis.PubSub;

/// <summary>
/// The members a group has in this process (channels_redis's <c>groups[group_channel]</c> set). The
/// group itself is the Redis channel <c>{prefix}__group__{group}</c>, which this process is subscribed
/// to while it has members here. Used only under the layer's state lock.
/// </summary>
internal sealed class PubSubGroup(string redisChannel)
{
    private readonly Dictionary<string, LocalChannel> _members = new(StringComparer.Ordinal);
    private LocalChannel[]? _snapshot = [];

    /// <summary>The group's Redis channel.</summary>
    public string RedisChannel { get; } = redisChannel;

    public int Count => _members.Count;

    /// <summary>Adds <paramref name="channel"/>; false when it was a member already.</summary>
    public bool Add(LocalChannel channel)
    {
        if (!_members.TryAdd(channel.Name, channel))
        {
            return false;
        }

        _snapshot = null;
        return true;
    }

    /// <summary>Removes the member named <paramref name="channel"/>; false when it was none.</summary>
    public bool Remove(string channel)
    {
        if (!_members.Remove(channel))
        {
            return false;
        }

        _snapshot = null;
        return true;
    }

    /// <summary>The members as an array that later changes leave alone (made again only after a change).</summary>
    public LocalChannel[] Snapshot() => _snapshot ??= [.. _members.Values];
}
