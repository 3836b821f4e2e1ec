namespace Chat.Tests;

/// <summary>
/// The sample configured for a Redis Cluster (<c>Backend=Redis</c>, <c>Cluster=true</c>, every node in
/// <c>Hosts</c>): two servers, a client on each in one room; each sees what the other types.
/// </summary>
public sealed class ClusterChatTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task Two_servers_on_one_cluster_share_a_room()
    {
        string[] config =
        [
            "--ChannelLayers:default:Backend=Redis",
            "--ChannelLayers:default:Config:Cluster=true",
            $"--ChannelLayers:default:Config:Prefix=chat{Guid.NewGuid():N}",
            .. cluster.Urls.Select((url, i) => $"--ChannelLayers:default:Config:Hosts:{i}={url}"),
        ];
        await using var first = await ChatServer.StartAsync(config);
        await using var second = await ChatServer.StartAsync(config);
        Assert.NotSame(first.Layer, second.Layer);

        using var alice = await first.ConnectAsync("cluster-room");
        using var bob = await second.ConnectAsync("cluster-room");
        using var carol = await second.ConnectAsync("another-room");

        await alice.SendTextAsync("hello from the first server");
        Assert.Equal("hello from the first server", await alice.ReceiveTextAsync());
        Assert.Equal("hello from the first server", await bob.ReceiveTextAsync());

        await bob.SendTextAsync("hi from the second 你好");
        Assert.Equal("hi from the second 你好", await bob.ReceiveTextAsync());
        Assert.Equal("hi from the second 你好", await alice.ReceiveTextAsync());

        // The other room got neither: its first message is its own.
        await carol.SendTextAsync("elsewhere");
        Assert.Equal("elsewhere", await carol.ReceiveTextAsync());

        await alice.CloseNormallyAsync();
        await bob.CloseNormallyAsync();
        await carol.CloseNormallyAsync();
    }
}
