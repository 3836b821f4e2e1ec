using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>
/// The published conformance suite against a layer that knows only the sentinels (each layer finds
/// the master itself), with the same documented difference as <see cref="Layer.RedisConformanceTests"/>.
/// </summary>
public sealed class SentinelConformanceTests(SentinelCluster cluster) : ChannelLayerConformanceTests, IClassFixture<SentinelCluster>
{
    protected override bool ExpiredMessageLeavesGroups => false;

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        var layerOptions = new RedisChannelLayerOptions
        {
            Prefix = $"sentinelconf{Guid.NewGuid():N}",
            Expiry = RoundUp(options.Expiry),
            GroupExpiry = RoundUp(options.GroupExpiry),
            Capacity = options.Capacity,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
        };
        layerOptions.Hosts.Add(cluster.Host);
        foreach (var rule in options.ChannelCapacity)
        {
            layerOptions.ChannelCapacity.Add(rule);
        }

        return ValueTask.FromResult<IChannelLayer>(new RedisChannelLayer(layerOptions));
    }

    private static TimeSpan RoundUp(TimeSpan span) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(span.TotalSeconds)));
}
