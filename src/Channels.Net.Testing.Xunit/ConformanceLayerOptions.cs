using Channels.Net.Layers;

namespace Channels.Net.Testing.Conformance;

/// <summary>
/// The settings a test of <see cref="ChannelLayerConformanceTests"/> asks a backend's layer to be
/// made with. Each maps onto the backend option of the same meaning (Django's <c>expiry</c>,
/// <c>group_expiry</c>, <c>capacity</c> and <c>channel_capacity</c>); a factory must honour every one.
/// </summary>
public sealed class ConformanceLayerOptions
{
    /// <summary>How long a message waits to be received before it is dropped (Django's <c>expiry</c>).
    /// Defaults to 60 seconds; expiry tests set a short value (a few <see cref="ChannelLayerConformanceTests.ExpiryGranularity"/>s).</summary>
    public TimeSpan Expiry { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a group membership lasts unless renewed (Django's <c>group_expiry</c>). Defaults to 86400 seconds.</summary>
    public TimeSpan GroupExpiry { get; init; } = TimeSpan.FromSeconds(86400);

    /// <summary>How many messages a channel holds before a send throws <see cref="ChannelFullException"/>
    /// (Django's <c>capacity</c>). Defaults to 100.</summary>
    public int Capacity { get; init; } = 100;

    /// <summary>Per-channel capacities, tried in this order, first match wins (Django's <c>channel_capacity</c>).
    /// Empty by default.</summary>
    public IReadOnlyList<ChannelCapacityRule> ChannelCapacity { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() =>
        $"Expiry={Expiry}, GroupExpiry={GroupExpiry}, Capacity={Capacity}, ChannelCapacity=[{string.Join(", ", ChannelCapacity)}]";
}
