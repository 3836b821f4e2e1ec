using System.Diagnostics;
using Channels.Net.Layers;
using Channels.Net.Redis.PubSub;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Redis.Tests.PubSub;

/// <summary>Redis goes away and comes back: sends fail fast meanwhile, waiting receives keep waiting, and
/// the process's channel and group subscriptions come back by themselves.</summary>
public sealed class PubSubRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly RedisServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Sends_fail_fast_while_Redis_is_down_and_every_subscription_is_restored_after_a_restart()
    {
        var options = new RedisPubSubChannelLayerOptions { Prefix = $"restart{Guid.NewGuid():N}" };
        options.Hosts.Add(RedisHost.FromAddress(_server.Url));
        await using var layer = new RedisPubSubChannelLayer(options);
        var channel = await layer.NewChannelAsync();
        var worker = "restart.worker";
        await layer.SubscribeAsync(worker);
        await layer.GroupAddAsync("room", channel);
        var groupChannel = options.Prefix + "__group__room";
        await layer.SendAsync(channel, ChannelMessage.Create("before"));
        Assert.Equal("before", (await layer.ReceiveAsync(channel).AsTask().WaitAsync(Timeout)).Type);

        // A receive waits through the outage.
        var waiting = layer.ReceiveAsync(channel).AsTask();
        await _server.StopAsync();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ChannelLayerUnavailableException>(async () =>
        {
            // The first send after the kill may still find the socket open; the next ones must fail fast.
            for (var i = 0; i < 20; i++)
            {
                await layer.SendAsync(channel, ChannelMessage.Create("during"));
                await Task.Delay(100);
            }
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"sends during the outage took {clock.Elapsed}");
        Assert.Contains($"127.0.0.1:{_server.Port}", error.Message, StringComparison.Ordinal);
        Assert.False(waiting.IsCompleted);

        // A brand-new server knows no subscriptions: whatever comes back was resubscribed by the client.
        await _server.StartAsync(_server.Port);
        await using var inspector = await _server.ConnectAsync();
        var redis = inspector.GetServer(inspector.GetEndPoints()[0]);
        var deadline = DateTime.UtcNow + Timeout;
        foreach (var name in new[] { channel, worker, groupChannel })
        {
            while (await redis.SubscriptionSubscriberCountAsync(RedisChannel.Literal(name)) != 1)
            {
                Assert.True(DateTime.UtcNow < deadline, $"'{name}' was not resubscribed within {Timeout.TotalSeconds} s.");
                await Task.Delay(100);
            }
        }

        // Sends work again; the waiting receive gets the next message, and the group and the worker channel deliver too.
        await layer.SendAsync(channel, ChannelMessage.Create("after"));
        Assert.Equal("after", (await waiting.WaitAsync(Timeout)).Type);
        await layer.GroupSendAsync("room", ChannelMessage.Create("group.after"));
        Assert.Equal("group.after", (await layer.ReceiveAsync(channel).AsTask().WaitAsync(Timeout)).Type);
        await layer.SendAsync(worker, ChannelMessage.Create("worker.after"));
        Assert.Equal("worker.after", (await layer.ReceiveAsync(worker).AsTask().WaitAsync(Timeout)).Type);

        // New subscriptions work too.
        var fresh = await layer.NewChannelAsync();
        await layer.SendAsync(fresh, ChannelMessage.Create("fresh"));
        Assert.Equal("fresh", (await layer.ReceiveAsync(fresh).AsTask().WaitAsync(Timeout)).Type);
    }
}
