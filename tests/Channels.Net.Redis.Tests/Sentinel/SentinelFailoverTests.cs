using Channels.Net.Layers;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>
/// <c>SENTINEL FAILOVER</c> under a live layer: it follows the new master without being recreated,
/// and receives that were waiting get what is sent after the switch.
/// </summary>
public sealed class SentinelFailoverTests(SentinelCluster cluster) : IClassFixture<SentinelCluster>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task After_a_forced_failover_sends_go_to_the_new_master_and_waiting_receives_get_them()
    {
        var prefix = $"failover{Guid.NewGuid():N}";
        var recorder = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(recorder));
        var options = new RedisChannelLayerOptions { Prefix = prefix, BlockingPopTimeout = TimeSpan.FromSeconds(1) };
        options.Hosts.Add(cluster.Host);
        await using var layer = new RedisChannelLayer(options, loggers);

        // Before: a group with a process-local member, a plain channel, both working.
        var local = await layer.NewChannelAsync();
        await layer.GroupAddAsync("room", local);
        await layer.GroupSendAsync("room", ChannelMessage.Create("before"));
        Assert.Equal("before", (await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait)).Type);
        await layer.SendAsync("worker.jobs", ChannelMessage.Create("before"));
        Assert.Equal("before", (await layer.ReceiveAsync("worker.jobs").AsTask().WaitAsync(s_wait)).Type);

        // Receives waiting through the failover.
        var waitingLocal = layer.ReceiveAsync(local).AsTask();
        var waitingPlain = layer.ReceiveAsync("worker.jobs").AsTask();

        var (from, to) = await cluster.FailoverAsync();

        // The layer learns of the move (it logs it once it has moved) ...
        await WaitForAsync(() => recorder.Entries.Any(e => e.EventId.Id == 541), "the layer to log the master's move");
        var moved = recorder.Entries.Single(e => e.EventId.Id == 541);
        Assert.Equal(LogLevel.Warning, moved.Level);
        Assert.Contains($"moved from 127.0.0.1:{from} to 127.0.0.1:{to}", moved.Message, StringComparison.Ordinal);
        Assert.False(waitingLocal.IsCompleted);
        Assert.False(waitingPlain.IsCompleted);

        // ... and from then on sends go to the new master, first time, on the same layer.
        await layer.GroupSendAsync("room", ChannelMessage.Create("after"));
        await layer.SendAsync("worker.jobs", ChannelMessage.Create("after"));
        await layer.SendAsync("worker.unread", ChannelMessage.Create("kept"));
        await using (var newMaster = await cluster.ConnectDataAsync(to))
        {
            Assert.Equal(1, await newMaster.GetDatabase().SortedSetLengthAsync($"{prefix}worker.unread"));
        }

        // The receives that were waiting get them.
        Assert.Equal("after", (await waitingLocal.WaitAsync(s_wait)).Type);
        Assert.Equal("after", (await waitingPlain.WaitAsync(s_wait)).Type);

        // The next ones work as before; the group made before the failover is still there.
        await layer.GroupSendAsync("room", ChannelMessage.Create("later"));
        Assert.Equal("later", (await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait)).Type);
        var newcomer = await layer.NewChannelAsync();
        await layer.GroupAddAsync("room", newcomer);
        await layer.GroupSendAsync("room", ChannelMessage.Create("both"));
        Assert.Equal("both", (await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait)).Type);
        Assert.Equal("both", (await layer.ReceiveAsync(newcomer).AsTask().WaitAsync(s_wait)).Type);
        Assert.Equal("kept", (await layer.ReceiveAsync("worker.unread").AsTask().WaitAsync(s_wait)).Type);
    }

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}.\n{cluster.Logs()}");
            }

            await Task.Delay(50);
        }
    }
}
