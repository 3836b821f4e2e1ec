using Channels.Net.Interop.Tests.Infrastructure;

namespace Channels.Net.Interop.Tests;

/// <summary>The peer itself: the real packages, and a loud failure when they are missing.</summary>
[Collection(InteropCollection.Name)]
public sealed class PeerTests(InteropEnvironment env)
{
    [Fact]
    public void The_peer_runs_the_real_channels_redis_4()
    {
        Assert.StartsWith("4.", env.Peer.Versions["channels_redis"], StringComparison.Ordinal);
        Assert.StartsWith("4.", env.Peer.Versions["channels"], StringComparison.Ordinal);
        Assert.StartsWith("3.", env.Peer.Versions["python"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_channels_redis_the_peer_fails_naming_the_package_to_install()
    {
        // python3 -S leaves dist-packages off sys.path: channels_redis cannot be imported, as on a machine without it.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PythonPeer.StartAsync(["-S"]));
        Assert.Contains("cannot import channels_redis", error.Message, StringComparison.Ordinal);
        Assert.Contains("python3-channels-redis", error.Message, StringComparison.Ordinal);
    }
}
