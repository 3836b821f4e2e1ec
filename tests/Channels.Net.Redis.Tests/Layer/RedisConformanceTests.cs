using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>The published conformance suite against a real redis-server.</summary>
/// <remarks>
/// One documented difference: an expired message does not make its channel leave its groups
/// (channels_redis drops expired messages with ZREMRANGEBYSCORE and leaves memberships to group_expiry).
/// </remarks>
public sealed class RedisConformanceTests(RedisServer server) : ChannelLayerConformanceTests, IClassFixture<RedisServer>
{
    protected override bool ExpiredMessageLeavesGroups => false;

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        var layerOptions = new RedisChannelLayerOptions
        {
            Prefix = $"conf{Guid.NewGuid():N}",
            Expiry = RoundUp(options.Expiry),
            GroupExpiry = RoundUp(options.GroupExpiry),
            Capacity = options.Capacity,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
        };
        layerOptions.Hosts.Add(RedisHost.FromAddress(server.Url));
        foreach (var rule in options.ChannelCapacity)
        {
            layerOptions.ChannelCapacity.Add(rule);
        }

        return ValueTask.FromResult<IChannelLayer>(new RedisChannelLayer(layerOptions));
    }

    private static TimeSpan RoundUp(TimeSpan span) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(span.TotalSeconds)));
}
