using System.Collections.Concurrent;
using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>Many concurrent senders and receivers on one channel: every message is received exactly
    /// once; none is lost, none duplicated.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Concurrency_ManySendersAndReceivers_EveryMessageExactlyOnce(ConformanceChannelKind kind)
    {
        const int senders = 4;
        const int perSender = 250;
        const int receivers = 4;
        const int total = senders * perSender;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Capacity = total + 1 });
        var channel = await NewTestChannelAsync(layer, kind, "concurrent");
        var seen = new ConcurrentDictionary<(long Sender, long N), int>();
        var received = 0;
        using var done = new CancellationTokenSource();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(done.Token);
        deadline.CancelAfter(OperationTimeout * 4);

        var receiving = Enumerable.Range(0, receivers).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                ChannelMessage message;
                try
                {
                    message = await layer.ReceiveAsync(channel, deadline.Token);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                {
                    return;
                }

                seen.AddOrUpdate((Int(message, "sender"), Int(message, "n")), 1, static (_, count) => count + 1);
                if (Interlocked.Increment(ref received) == total)
                {
                    await done.CancelAsync();
                }
            }
        })).ToArray();

        var sending = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            for (var n = 0; n < perSender; n++)
            {
                await layer.SendAsync(channel, Msg("test.concurrent", ("sender", s), ("n", n)));
            }
        })).ToArray();

        await Task.WhenAll(sending).WaitAsync(OperationTimeout * 4);
        await Task.WhenAll(receiving).WaitAsync(OperationTimeout * 5);

        Assert.True(done.IsCancellationRequested, $"Only {Volatile.Read(ref received)} of {total} messages arrived.");
        Assert.Equal(total, Volatile.Read(ref received));
        Assert.Equal(total, seen.Count);
        Assert.All(seen, pair => Assert.Equal(1, pair.Value));
        for (var s = 0; s < senders; s++)
        {
            for (var n = 0; n < perSender; n++)
            {
                Assert.True(seen.ContainsKey((s, n)), $"Message {n} of sender {s} was lost.");
            }
        }

        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>With many concurrent senders and one receiver, each sender's messages arrive in the order it sent them.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Concurrency_ManySenders_EachSendersOrderIsKept(ConformanceChannelKind kind)
    {
        const int senders = 4;
        const int perSender = 100;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Capacity = senders * perSender + 1 });
        var channel = await NewTestChannelAsync(layer, kind, "order");

        var sending = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            for (var n = 0; n < perSender; n++)
            {
                await layer.SendAsync(channel, Msg("test.order", ("sender", s), ("n", n)));
            }
        })).ToArray();

        var next = new long[senders];
        for (var i = 0; i < senders * perSender; i++)
        {
            var message = await ReceiveWithinAsync(layer, channel);
            var sender = Int(message, "sender");
            Assert.Equal(next[sender], Int(message, "n"));
            next[sender]++;
        }

        await Within(Task.WhenAll(sending));
        Assert.All(next, n => Assert.Equal(perSender, n));
        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>Concurrent adds and discards on one group leave it in the state the last operation on
    /// each channel says.</summary>
    [Fact]
    public async Task Concurrency_GroupAddAndDiscard_EndInTheLastState()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("churn");
        var channels = new string[16];
        for (var i = 0; i < channels.Length; i++)
        {
            channels[i] = await NewTestChannelAsync(layer, i % 2 == 0 ? ConformanceChannelKind.Plain : ConformanceChannelKind.ProcessLocal, "churn");
        }

        await Within(Task.WhenAll(channels.Select((channel, i) => Task.Run(async () =>
        {
            for (var round = 0; round < 20; round++)
            {
                await layer.GroupAddAsync(group, channel);
                await layer.GroupDiscardAsync(group, channel);
            }

            // Members whose index is divisible by 3 end inside the group.
            if (i % 3 == 0)
            {
                await layer.GroupAddAsync(group, channel);
            }
        }))));

        await Within(layer.GroupSendAsync(group, Msg("test.churn")));
        for (var i = 0; i < channels.Length; i++)
        {
            if (i % 3 == 0)
            {
                Assert.Equal("test.churn", (await ReceiveWithinAsync(layer, channels[i])).Type);
            }
        }

        await Task.WhenAll(channels.Select(channel => AssertNoMessageAsync(layer, channel)));
    }
}
