using Channels.Net.Layers.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Layers.Configuration;

/// <summary>
/// Configuration binding of <see cref="InMemoryChannelLayer"/>: backend <c>InMemory</c>, options
/// <c>Expiry</c>, <c>GroupExpiry</c>, <c>Capacity</c>, <c>ChannelCapacity</c>.
/// </summary>
public sealed class InMemoryChannelLayerBackend : ChannelLayerBackend
{
    /// <inheritdoc />
    public override IReadOnlyList<string> Names { get; } =
    [
        "InMemory",
        nameof(InMemoryChannelLayer),
        typeof(InMemoryChannelLayer).FullName!,
        "channels.layers.InMemoryChannelLayer",
    ];

    /// <inheritdoc />
    public override Func<IServiceProvider, IChannelLayer> Bind(ChannelLayerConfigReader config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var defaults = new InMemoryChannelLayerOptions();
        var expiry = config.GetDuration("Expiry", defaults.Expiry, TimeSpan.Zero);
        var groupExpiry = config.GetDuration("GroupExpiry", defaults.GroupExpiry, TimeSpan.Zero);
        var capacity = config.GetInt32("Capacity", defaults.Capacity, min: 1);
        var rules = config.GetCapacityRules("ChannelCapacity");
        config.EnsureAllKeysRead();

        return services =>
        {
            var options = new InMemoryChannelLayerOptions
            {
                Expiry = expiry,
                GroupExpiry = groupExpiry,
                Capacity = capacity,
                TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
            };
            foreach (var rule in rules)
            {
                options.ChannelCapacity.Add(rule);
            }

            return new InMemoryChannelLayer(options, services.GetService<ILogger<InMemoryChannelLayer>>());
        };
    }
}
