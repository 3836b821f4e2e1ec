using Channels.Net.Layers;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>
/// The master process dies: sends fail with <see cref="ChannelLayerUnavailableException"/> until the
/// sentinels promote the replica, then go to it; a receive waiting all along gets the next message.
/// </summary>
public sealed class SentinelMasterCrashTests(SentinelCluster cluster) : IClassFixture<SentinelCluster>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task When_the_master_dies_the_layer_follows_the_promoted_replica()
    {
        await cluster.WaitForSentinelsToMeetAsync();
        var recorder = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(recorder));
        var options = new RedisChannelLayerOptions
        {
            Prefix = $"crash{Guid.NewGuid():N}",
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
            ConnectTimeout = TimeSpan.FromSeconds(2),
        };
        options.Hosts.Add(cluster.Host);
        await using var layer = new RedisChannelLayer(options, loggers);
        var local = await layer.NewChannelAsync();
        await layer.GroupAddAsync("room", local);
        await layer.GroupSendAsync("room", ChannelMessage.Create("before"));
        Assert.Equal("before", (await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait)).Type);
        var waiting = layer.ReceiveAsync(local).AsTask();

        var (from, to) = await cluster.KillMasterAsync();

        // Until the layer has moved, a send fails as "unavailable" (never another exception, never a hang).
        var deadline = DateTime.UtcNow + s_wait;
        while (true)
        {
            try
            {
                await layer.GroupSendAsync("room", ChannelMessage.Create("after")).AsTask().WaitAsync(s_wait);
                break;
            }
            catch (ChannelLayerUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal("after", (await waiting.WaitAsync(s_wait)).Type);
        Assert.Contains(recorder.Entries, e => e.EventId.Id == 541 && e.Message.Contains($"moved from 127.0.0.1:{from} to 127.0.0.1:{to}", StringComparison.Ordinal));

        await using var newMaster = await cluster.ConnectDataAsync(to);
        Assert.True(await newMaster.GetDatabase().KeyExistsAsync($"{options.Prefix}:group:room"));
    }
}
