using Channels.Net.Redis.Tests.Support;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>The published conformance suite against a real redis-server.</summary>
public sealed class RedisConformanceTests(RedisServer server) : RedisLayerConformanceTests, IClassFixture<RedisServer>
{
    protected override IReadOnlyList<(string EndPoint, string? Password)> DataServers => [($"127.0.0.1:{server.Port}", null)];

    protected override void Configure(RedisChannelLayerOptions options) => options.Hosts.Add(RedisHost.FromAddress(server.Url));
}
