using Channels.Net.Layers;
using Channels.Net.Redis.PubSub;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Redis.Tests.PubSub;

/// <summary>The published conformance suite against <see cref="RedisPubSubChannelLayer"/> on a real redis-server.</summary>
/// <remarks>
/// The documented differences of Redis pub/sub, each asserted by the tests concerned: no capacity (sends
/// past it are delivered), no message or group expiry, no persistence (a message with no subscriber is lost,
/// so each test subscribes to its channels before it sends), and new channel names as channels_redis makes
/// them (<c>{prefix}specific.{hex}</c>, no <c>!</c>). The suite's capacity and expiry settings do not apply.
/// </remarks>
public sealed class PubSubConformanceTests(RedisServer server) : ChannelLayerConformanceTests, IClassFixture<RedisServer>
{
    protected override bool SupportsCapacity => false;

    protected override bool SupportsMessageExpiry => false;

    protected override bool SupportsGroupExpiry => false;

    protected override bool KeepsMessagesWithoutReceiver => false;

    protected override bool NewChannelNamesAreProcessLocal => false;

    protected override string ExpectedNewChannelStart(IChannelLayer layer, string prefix) =>
        ((RedisPubSubChannelLayer)layer).Options.Prefix + prefix + ".";

    protected override ValueTask BeginListeningAsync(IChannelLayer layer, string channel) =>
        ((RedisPubSubChannelLayer)layer).SubscribeAsync(channel);

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        // Pub/sub channels are global to the server, so each layer gets its own prefix: the suite's plain
        // channel names are unique already, and the prefix keeps group channels apart.
        var layerOptions = new RedisPubSubChannelLayerOptions { Prefix = $"conf{Guid.NewGuid():N}" };
        layerOptions.Hosts.Add(RedisHost.FromAddress(server.Url));
        return ValueTask.FromResult<IChannelLayer>(new RedisPubSubChannelLayer(layerOptions));
    }
}
