using System.Globalization;
using Channels.Net.Redis.Tests.Support;

namespace Channels.Net.Redis.Tests.Cluster;

/// <summary>The published conformance suite against a real Redis Cluster (three primaries, three replicas).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterConformanceTests(RedisCluster cluster) : RedisLayerConformanceTests
{
    protected override IReadOnlyList<(string EndPoint, string? Password)> DataServers =>
        [.. cluster.Ports.Select(static p => ("127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture), (string?)null))];

    protected override void Configure(RedisChannelLayerOptions options)
    {
        options.Cluster = true;
        foreach (var url in cluster.Urls)
        {
            options.Hosts.Add(RedisHost.FromAddress(url));
        }
    }
}
