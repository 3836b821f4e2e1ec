using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Redis.Tests.Cluster;

/// <summary>The published conformance suite against a real Redis Cluster (three primaries, three replicas).</summary>
/// <remarks>The same documented difference as on one server: an expired message does not make its channel leave its groups.</remarks>
[Collection(ClusterCollection.Name)]
public sealed class ClusterConformanceTests(RedisCluster cluster) : ChannelLayerConformanceTests
{
    protected override bool ExpiredMessageLeavesGroups => false;

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        var layerOptions = new RedisChannelLayerOptions
        {
            Cluster = true,
            Prefix = $"conf{Guid.NewGuid():N}",
            Expiry = RoundUp(options.Expiry),
            GroupExpiry = RoundUp(options.GroupExpiry),
            Capacity = options.Capacity,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
        };
        foreach (var url in cluster.Urls)
        {
            layerOptions.Hosts.Add(RedisHost.FromAddress(url));
        }

        foreach (var rule in options.ChannelCapacity)
        {
            layerOptions.ChannelCapacity.Add(rule);
        }

        return ValueTask.FromResult<IChannelLayer>(new RedisChannelLayer(layerOptions));
    }

    private static TimeSpan RoundUp(TimeSpan span) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(span.TotalSeconds)));
}
