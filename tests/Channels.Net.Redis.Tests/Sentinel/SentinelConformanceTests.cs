using System.Globalization;
using Channels.Net.Redis.Tests.Support;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>
/// The published conformance suite against a layer that knows only the sentinels (each layer finds
/// the master itself).
/// </summary>
public sealed class SentinelConformanceTests(SentinelCluster cluster) : RedisLayerConformanceTests, IClassFixture<SentinelCluster>
{
    protected override IReadOnlyList<(string EndPoint, string? Password)> DataServers =>
        [.. cluster.DataPorts.Select(static p => ("127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture), (string?)SentinelCluster.Password))];

    protected override void Configure(RedisChannelLayerOptions options) => options.Hosts.Add(cluster.Host);
}
