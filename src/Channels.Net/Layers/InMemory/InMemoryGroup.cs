namespace Channels.Net.Layers.InMemory;

/// <summary>
/// One group of an <see cref="InMemoryChannelLayer"/>. Changed only under the layer's group lock;
/// <see cref="Snapshot"/> is an immutable array that group sends read without any lock.
/// </summary>
internal sealed class InMemoryGroup
{
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private volatile Member[] _snapshot = [];

    public InMemoryGroup(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public int Count => _members.Count;

    public Member[] Snapshot => _snapshot;

    public IEnumerable<Member> Members => _members.Values;

    /// <summary>Adds or renews a member; true when it was new.</summary>
    public bool AddOrRenew(ChannelQueue queue, long now)
    {
        if (_members.TryGetValue(queue.Name, out var existing) && ReferenceEquals(existing.Queue, queue))
        {
            existing.JoinedAt = now;
            return false;
        }

        _members[queue.Name] = new Member(queue, now);
        Publish();
        return existing is null;
    }

    public bool Remove(string channel)
    {
        if (!_members.Remove(channel))
        {
            return false;
        }

        Publish();
        return true;
    }

    private void Publish() => _snapshot = [.. _members.Values];

    /// <summary>A channel's membership: its queue and when it (last) joined.</summary>
    internal sealed class Member(ChannelQueue queue, long joinedAt)
    {
        public ChannelQueue Queue { get; } = queue;

        public long JoinedAt { get; set; } = joinedAt;
    }
}
