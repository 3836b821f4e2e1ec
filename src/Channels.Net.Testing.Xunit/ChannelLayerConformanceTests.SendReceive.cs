using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>Messages from one sender to one channel are received in the order they were sent.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Receive_ReturnsMessagesInFifoOrder(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "fifo");
        const int count = 50;
        for (var i = 0; i < count; i++)
        {
            await Within(layer.SendAsync(channel, Msg("test.fifo", ("n", i))));
        }

        var received = await ReceiveManyAsync(layer, channel, count);

        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), received.Select(m => Int(m, "n")));
        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>Channels are independent: a message goes to the channel it was sent to and nowhere else.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Send_ReachesOnlyItsChannel(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var first = await NewTestChannelAsync(layer, kind, "independent");
        var second = await NewTestChannelAsync(layer, kind, "independent");

        await Within(layer.SendAsync(first, Msg("test.first")));
        await Within(layer.SendAsync(second, Msg("test.second")));

        Assert.Equal("test.second", (await ReceiveWithinAsync(layer, second)).Type);
        Assert.Equal("test.first", (await ReceiveWithinAsync(layer, first)).Type);
        await AssertNoMessageAsync(layer, first);
        await AssertNoMessageAsync(layer, second);
    }

    /// <summary>A message sent to a plain channel before anyone receives on it waits for the first receive.
    /// A backend without persistence (<see cref="KeepsMessagesWithoutReceiver"/> false) loses it instead.</summary>
    [Fact]
    public async Task Send_BeforeAnyReceive_MessageWaitsForReceiver()
    {
        var layer = await NewLayerAsync();
        var channel = UniqueName("persist"); // no BeginListeningAsync: nobody listens yet
        var message = Msg("test.persist", ("n", 1));

        await Within(layer.SendAsync(channel, message));

        if (KeepsMessagesWithoutReceiver)
        {
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, channel));
        }
        else
        {
            await AssertNoMessageAsync(layer, channel);
        }
    }

    /// <summary>A receive that is waiting when the message is sent gets it.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Receive_Waiting_GetsMessageSentLater(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "waiting");
        var receive = ReceiveWithinAsync(layer, channel);
        await WaitForWaitingReceiversAsync(layer, channel, 1);
        Assert.False(receive.IsCompleted, "A receive on an empty channel completed before anything was sent.");

        var message = Msg("test.waiting", ("text", "late"));
        await Within(layer.SendAsync(channel, message));

        MessageAssert.Equal(message, await receive);
    }

    /// <summary>New channel names are unique, valid, process-local (<c>{prefix}.…!…</c>) and keep the prefix.
    /// (A backend whose names are not process-local, <see cref="NewChannelNamesAreProcessLocal"/> false, must
    /// make names without <c>!</c>, starting as <see cref="ExpectedNewChannelStart"/> says.)</summary>
    [Fact]
    public async Task NewChannel_NamesAreUniqueValidAndProcessLocal()
    {
        var layer = await NewLayerAsync();
        var other = await NewLayerAsync();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 500; i++)
        {
            var name = await Within(layer.NewChannelAsync());
            Assert.True(names.Add(name), $"NewChannelAsync returned '{name}' twice.");
            Assert.True(ChannelNames.IsValidChannelName(name), $"'{name}' is not a valid channel name.");
            Assert.StartsWith(ExpectedNewChannelStart(layer, "specific"), name, StringComparison.Ordinal);
            AssertNewChannelLocality(name);
        }

        for (var i = 0; i < 100; i++)
        {
            var name = await Within(other.NewChannelAsync());
            Assert.True(names.Add(name), $"Two layers handed out the same channel name '{name}'.");
        }

        var custom = await Within(layer.NewChannelAsync("my-prefix_1.sub"));
        Assert.StartsWith(ExpectedNewChannelStart(layer, "my-prefix_1.sub"), custom, StringComparison.Ordinal);
        Assert.True(ChannelNames.IsValidChannelName(custom));
        AssertNewChannelLocality(custom);
    }

    private void AssertNewChannelLocality(string name)
    {
        if (NewChannelNamesAreProcessLocal)
        {
            Assert.True(ChannelNames.IsProcessLocal(name), $"'{name}' has no '!'.");
            Assert.NotEqual(ChannelNames.NonLocalName(name), name);
        }
        else
        {
            Assert.False(ChannelNames.IsProcessLocal(name), $"'{name}' has a '!', but this backend's names are not process-local.");
            Assert.Equal(name, ChannelNames.NonLocalName(name));
        }
    }

    /// <summary>A new channel can be sent to and received from, and two new channels do not share messages.</summary>
    [Fact]
    public async Task NewChannel_IsReceivable()
    {
        var layer = await NewLayerAsync();
        var first = await Within(layer.NewChannelAsync());
        var second = await Within(layer.NewChannelAsync("other"));
        await Within(BeginListeningAsync(layer, first));
        await Within(BeginListeningAsync(layer, second));

        var one = Msg("test.new", ("to", "first"));
        var two = Msg("test.new", ("to", "second"));
        await Within(layer.SendAsync(first, one));
        await Within(layer.SendAsync(second, two));

        MessageAssert.Equal(two, await ReceiveWithinAsync(layer, second));
        MessageAssert.Equal(one, await ReceiveWithinAsync(layer, first));
        await AssertNoMessageAsync(layer, first);
    }

    /// <summary>A prefix that would make an invalid name (or that holds <c>!</c>) is refused with
    /// <see cref="InvalidChannelNameException"/>.</summary>
    /// <param name="prefix">The invalid prefix.</param>
    [Theory]
    [InlineData("bad prefix")]
    [InlineData("a!b")]
    [InlineData("préfixe")]
    public async Task NewChannel_InvalidPrefix_IsRefused(string prefix)
    {
        var layer = await NewLayerAsync();
        var error = await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.NewChannelAsync(prefix)));
        Assert.Contains(prefix, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Cancelling a waiting receive takes no message: a message sent afterwards goes to the next receive.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Receive_CancelledWhileWaiting_LosesNoMessage(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "cancel");
        using var cancel = new CancellationTokenSource();
        var receive = layer.ReceiveAsync(channel, cancel.Token).AsTask();
        await WaitForWaitingReceiversAsync(layer, channel, 1);
        Assert.False(receive.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(receive));

        var message = Msg("test.cancel", ("n", 1));
        await Within(layer.SendAsync(channel, message));
        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, channel));
        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>When a cancellation races a send, the message goes either to the cancelled receive
    /// (which then completes with it) or to the next receive: never to both, never to neither.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Receive_CancelRacingSend_DeliversEveryMessageExactlyOnce(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "race");
        for (var i = 0; i < 100; i++)
        {
            using var cancel = new CancellationTokenSource();
            var receive = layer.ReceiveAsync(channel, cancel.Token).AsTask();
            var message = Msg("test.race", ("n", i));
            var send = Task.Run(async () => await layer.SendAsync(channel, message));
            await cancel.CancelAsync();
            await Within(send);

            ChannelMessage received;
            try
            {
                received = await Within(receive);
            }
            catch (OperationCanceledException)
            {
                received = await ReceiveWithinAsync(layer, channel);
            }

            Assert.Equal(i, Int(received, "n"));
        }

        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>Receivers waiting on one channel are served first come, first served.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Receive_WaitingReceivers_AreServedFirstComeFirstServed(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "fcfs");
        var receivers = new List<Task<ChannelMessage>>();
        for (var i = 0; i < 4; i++)
        {
            receivers.Add(ReceiveWithinAsync(layer, channel));
            await WaitForWaitingReceiversAsync(layer, channel, i + 1);
        }

        for (var i = 0; i < receivers.Count; i++)
        {
            await Within(layer.SendAsync(channel, Msg("test.fcfs", ("n", i))));
        }

        for (var i = 0; i < receivers.Count; i++)
        {
            Assert.Equal(i, Int(await receivers[i], "n"));
        }
    }

    /// <summary>A receive with an already-cancelled token throws <see cref="OperationCanceledException"/>
    /// and takes no message.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Receive_AlreadyCancelledToken_ThrowsAndTakesNoMessage(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "precancel");
        var message = Msg("test.precancel");
        await Within(layer.SendAsync(channel, message));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.ReceiveAsync(channel, new CancellationToken(canceled: true))));

        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, channel));
    }

    /// <summary>Every other operation given an already-cancelled token throws
    /// <see cref="OperationCanceledException"/> and does nothing.</summary>
    [Fact]
    public async Task Operations_AlreadyCancelledToken_ThrowAndDoNothing()
    {
        var layer = await NewLayerAsync();
        var cancelled = new CancellationToken(canceled: true);
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "precancel");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.SendAsync(channel, Msg("test.cancelled"), cancelled)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.NewChannelAsync("specific", cancelled)));
        await AssertNoMessageAsync(layer, channel);

        if (await GroupsSupportedAsync(layer))
        {
            var group = UniqueName("precancel");
            var member = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "precancel");
            await Within(layer.GroupAddAsync(group, member));

            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.GroupAddAsync(group, channel, cancelled)));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.GroupDiscardAsync(group, member, cancelled)));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.GroupSendAsync(group, Msg("test.cancelled"), cancelled)));
            await AssertNoMessageAsync(layer, member);

            // The cancelled add added nothing and the cancelled discard removed nothing.
            await Within(layer.GroupSendAsync(group, Msg("test.delivered")));
            Assert.Equal("test.delivered", (await ReceiveWithinAsync(layer, member)).Type);
            await AssertNoMessageAsync(layer, channel);
        }

        if (await FlushSupportedAsync(layer))
        {
            await Within(layer.SendAsync(channel, Msg("test.kept")));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(layer.FlushAsync(cancelled)));
            Assert.Equal("test.kept", (await ReceiveWithinAsync(layer, channel)).Type);
        }
    }
}
