namespace Channels.Net.Layers.InMemory;

/// <summary>
/// Options of <see cref="InMemoryChannelLayer"/>, with Django's <c>InMemoryChannelLayer</c> defaults.
/// </summary>
public sealed class InMemoryChannelLayerOptions
{
    /// <summary>How long a message waits to be received before it is dropped (Django's <c>expiry</c>, 60 s).</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a group membership lasts unless renewed (Django's <c>group_expiry</c>, 86400 s).</summary>
    public TimeSpan GroupExpiry { get; set; } = TimeSpan.FromSeconds(86400);

    /// <summary>How many messages a channel holds before <see cref="ChannelFullException"/> (Django's <c>capacity</c>, 100).</summary>
    public int Capacity { get; set; } = 100;

    /// <summary>Per-channel capacities by glob or regular expression, first match wins (Django's <c>channel_capacity</c>).</summary>
    public IList<ChannelCapacityRule> ChannelCapacity { get; } = new List<ChannelCapacityRule>();

    /// <summary>The clock; replace it in tests to move time without waiting.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Expiry <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Expiry), Expiry, "Expiry must be longer than zero.");
        }

        if (GroupExpiry <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(GroupExpiry), GroupExpiry, "GroupExpiry must be longer than zero.");
        }

        if (Capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity, "Capacity must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
