namespace Channels.Net.Layers;

/// <summary>
/// A default capacity plus ordered <see cref="ChannelCapacityRule"/>s: Django's <c>capacity</c>
/// and <c>channel_capacity</c> together, answering "how many messages may this channel hold".
/// </summary>
public sealed class ChannelCapacities
{
    private readonly ChannelCapacityRule[] _rules;

    /// <summary>Creates the table.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="defaultCapacity"/> is below 1.</exception>
    public ChannelCapacities(int defaultCapacity, IEnumerable<ChannelCapacityRule>? rules = null)
    {
        if (defaultCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(defaultCapacity), defaultCapacity, "The capacity must be at least 1.");
        }

        Default = defaultCapacity;
        _rules = rules?.ToArray() ?? [];
    }

    /// <summary>The capacity of a channel no rule matches.</summary>
    public int Default { get; }

    /// <summary>The rules, in the order they are tried.</summary>
    public IReadOnlyList<ChannelCapacityRule> Rules => _rules;

    /// <summary>The capacity of <paramref name="channel"/>: the first matching rule's, else <see cref="Default"/>.</summary>
    public int GetCapacity(string channel)
    {
        foreach (var rule in _rules)
        {
            if (rule.Matches(channel))
            {
                return rule.Capacity;
            }
        }

        return Default;
    }
}
