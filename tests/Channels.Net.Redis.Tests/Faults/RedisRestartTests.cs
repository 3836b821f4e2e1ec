using System.Diagnostics;
using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Faults;

/// <summary>Redis goes away and comes back: sends fail fast meanwhile, and delivery resumes by itself.</summary>
public sealed class RedisRestartTests : IAsyncLifetime
{
    private readonly RedisServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Sends_fail_fast_while_Redis_is_down_and_the_receive_pump_resumes_after_a_restart()
    {
        var options = new RedisChannelLayerOptions { Prefix = $"restart{Guid.NewGuid():N}", BlockingPopTimeout = TimeSpan.FromSeconds(1) };
        options.Hosts.Add(RedisHost.FromAddress(_server.Url));
        await using var layer = new RedisChannelLayer(options);
        var local = await layer.NewChannelAsync();
        await layer.SendAsync(local, ChannelMessage.Create("before"));
        Assert.Equal("before", (await layer.ReceiveAsync(local).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Type);

        // A receive waits through the outage.
        var waiting = layer.ReceiveAsync(local).AsTask();
        await _server.StopAsync();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ChannelLayerUnavailableException>(async () =>
        {
            // The first send after the kill may still find the socket open; the next ones must fail fast.
            for (var i = 0; i < 20; i++)
            {
                await layer.SendAsync("worker.queue", ChannelMessage.Create("during"));
                await Task.Delay(100);
            }
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"sends during the outage took {clock.Elapsed}");
        Assert.Contains($"127.0.0.1:{_server.Port}", error.Message, StringComparison.Ordinal);
        Assert.False(waiting.IsCompleted);

        await _server.StartAsync(_server.Port);

        // Once Redis is back, sends succeed again and the waiting receive gets the next message.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                await layer.SendAsync(local, ChannelMessage.Create("after"));
                break;
            }
            catch (ChannelLayerUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }

        Assert.Equal("after", (await waiting.WaitAsync(TimeSpan.FromSeconds(20))).Type);
    }
}
