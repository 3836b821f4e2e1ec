using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>A message not received within the expiry is dropped: a receive then gets the next,
    /// younger message, and after it waits in vain. Without expiry, both arrive.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public Task Expiry_UnreceivedMessage_IsDropped(ConformanceChannelKind kind) => WithRealTimeWindowsAsync(async windows =>
    {
        var g = ExpiryGranularity;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Expiry = g * 3 });
        var channel = await NewTestChannelAsync(layer, kind, "expiry");
        await PrimeAsync(layer, channel);

        await Within(layer.SendAsync(channel, Msg("test.expiry", ("n", 1))));
        await AdvanceTimeAsync(g * 2.5);
        var second = RealTimeWindows.Start();
        await Within(layer.SendAsync(channel, Msg("test.expiry", ("n", 2))));
        await AdvanceTimeAsync(g * 1.55); // the first is now 4.05 g old (past expiry + g), the second 1.55 g (within expiry)

        // The receive may take a few round trips (it pops and drops the first): leave it half a g of the expiry.
        windows.Require(second, g * 2.5, "the second message is received within its expiry");
        if (SupportsMessageExpiry)
        {
            Assert.Equal(2, Int(await ReceiveWithinAsync(layer, channel), "n"));
        }
        else
        {
            Assert.Equal([1L, 2L], (await ReceiveManyAsync(layer, channel, 2)).Select(m => Int(m, "n")));
        }

        await AssertNoMessageAsync(layer, channel);
    });

    /// <summary>A message received before its expiry arrives.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public Task Expiry_MessageReceivedInTime_Arrives(ConformanceChannelKind kind) => WithRealTimeWindowsAsync(async windows =>
    {
        var g = ExpiryGranularity;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Expiry = g * 2 });
        var channel = await NewTestChannelAsync(layer, kind, "intime");
        await PrimeAsync(layer, channel);
        var message = Msg("test.intime");

        var sent = RealTimeWindows.Start();
        await Within(layer.SendAsync(channel, message));
        await AdvanceTimeAsync(g);

        windows.Require(sent, g * 1.5, "the message is received within its expiry");
        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, channel));
    });

    /// <summary>Expiry applies to messages, not to receivers: a receive that has waited longer than the
    /// expiry still gets the message sent next.</summary>
    [Fact]
    public async Task Expiry_WaitingReceiver_IsNotExpired()
    {
        var g = ExpiryGranularity;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Expiry = g });
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "longwait");
        var receive = ReceiveWithinAsync(layer, channel);
        await WaitForWaitingReceiversAsync(layer, channel, 1);

        await AdvanceTimeAsync(g * 2.5);
        Assert.False(receive.IsCompleted, "A receive on an empty channel completed before anything was sent.");
        var message = Msg("test.longwait");
        await Within(layer.SendAsync(channel, message));

        MessageAssert.Equal(message, await receive);
    }

    /// <summary>Expired messages do not count against the capacity: once they expired, the channel
    /// accepts new messages.</summary>
    [Fact]
    public Task Expiry_ExpiredMessages_FreeCapacity() => WithRealTimeWindowsAsync(async windows =>
    {
        var g = ExpiryGranularity;
        const int capacity = 2;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Expiry = g, Capacity = capacity });
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "expirycap");
        await PrimeAsync(layer, channel);
        for (var i = 0; i < capacity; i++)
        {
            await Within(layer.SendAsync(channel, Msg("test.old", ("n", i))));
        }

        await AdvanceTimeAsync(g * 2.25);

        if (SupportsCapacity && !SupportsMessageExpiry)
        {
            await Assert.ThrowsAsync<ChannelFullException>(async () => await Within(layer.SendAsync(channel, Msg("test.new"))));
            Assert.Equal(["test.old", "test.old"], (await ReceiveManyAsync(layer, channel, capacity)).Select(m => m.Type));
            return;
        }

        var sent = RealTimeWindows.Start();
        await Within(layer.SendAsync(channel, Msg("test.new", ("n", 0))));
        await Within(layer.SendAsync(channel, Msg("test.new", ("n", 1))));
        var expected = SupportsMessageExpiry ? new[] { "test.new", "test.new" } : ["test.old", "test.old", "test.new", "test.new"];
        windows.Require(sent, g * 0.5, "the new messages are received within their expiry");
        Assert.Equal(expected, (await ReceiveManyAsync(layer, channel, expected.Length)).Select(m => m.Type));
        await AssertNoMessageAsync(layer, channel);
    });

    /// <summary>
    /// A channel whose message expired unread is presumed dead and leaves every group it was in (Django's
    /// in-memory layer); adding it again makes it a member again. Where memberships end only by group expiry
    /// (<see cref="ExpiredMessageLeavesGroups"/> false), it stays a member.
    /// </summary>
    [Fact]
    public Task Expiry_ExpiredMessage_ChannelLeavesItsGroups() => WithRealTimeWindowsAsync(async windows =>
    {
        var g = ExpiryGranularity;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Expiry = g });
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var first = UniqueName("stale");
        var second = UniqueName("stale");
        var stale = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "stale");
        var alive = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "alive");
        await PrimeAsync(layer, stale);
        await PrimeAsync(layer, alive);
        await Within(layer.GroupAddAsync(first, stale));
        await Within(layer.GroupAddAsync(second, stale));
        await Within(layer.GroupAddAsync(first, alive));

        await Within(layer.SendAsync(stale, Msg("test.unread")));
        await AdvanceTimeAsync(g * 2.25);

        var message = Msg("test.group.after");
        var sent = RealTimeWindows.Start();
        await Within(layer.GroupSendAsync(first, message));
        await Within(layer.GroupSendAsync(second, message));
        windows.Require(sent, g * 0.5, "the group messages are received within their expiry");
        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, alive));

        if (!SupportsMessageExpiry)
        {
            Assert.Equal(["test.unread", "test.group.after", "test.group.after"], (await ReceiveManyAsync(layer, stale, 3)).Select(m => m.Type));
        }
        else if (ExpiredMessageLeavesGroups)
        {
            await AssertNoMessageAsync(layer, stale);
            await Within(layer.GroupAddAsync(first, stale));
            var readded = RealTimeWindows.Start();
            await Within(layer.GroupSendAsync(first, Msg("test.group.readded")));
            windows.Require(readded, g * 0.5, "the message after the re-add is received within its expiry");
            Assert.Equal("test.group.readded", (await ReceiveWithinAsync(layer, stale)).Type);
            Assert.Equal("test.group.readded", (await ReceiveWithinAsync(layer, alive)).Type);
            await Within(layer.GroupSendAsync(second, Msg("test.group.second")));
        }
        else
        {
            windows.Require(sent, g * 0.5, "the group messages are received within their expiry");
            Assert.Equal(["test.group.after", "test.group.after"], (await ReceiveManyAsync(layer, stale, 2)).Select(m => m.Type));
        }

        await AssertNoMessageAsync(layer, stale);
    });

    /// <summary>A membership lapses once the group expiry has passed since it was added; adding again
    /// makes the channel a member again. Without group expiry, the membership outlives it.</summary>
    [Fact]
    public Task GroupExpiry_MembershipLapses() => WithRealTimeWindowsAsync(async windows =>
    {
        var g = ExpiryGranularity;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { GroupExpiry = g * 2 });
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("lapse");
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "lapse");
        await PrimeAsync(layer, channel);
        await Within(layer.GroupAddAsync(group, channel));

        await AdvanceTimeAsync(g * 3.1);
        await Within(layer.GroupSendAsync(group, Msg("test.lapsed")));
        if (SupportsGroupExpiry)
        {
            await AssertNoMessageAsync(layer, channel);
        }
        else
        {
            Assert.Equal("test.lapsed", (await ReceiveWithinAsync(layer, channel)).Type);
        }

        var readded = RealTimeWindows.Start();
        await Within(layer.GroupAddAsync(group, channel));
        windows.Require(readded, g * 1.5, "the group send comes within the group expiry of the re-add");
        await Within(layer.GroupSendAsync(group, Msg("test.readded")));
        Assert.Equal("test.readded", (await ReceiveWithinAsync(layer, channel)).Type);
        await AssertNoMessageAsync(layer, channel);
    });

    /// <summary>Adding a member again renews its membership: it outlives the group expiry counted from
    /// the first add, while a member that was not renewed lapses.</summary>
    [Fact]
    public Task GroupExpiry_AddingAgainRenews() => WithRealTimeWindowsAsync(async windows =>
    {
        var g = ExpiryGranularity;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { GroupExpiry = g * 2 });
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("renew");
        var renewed = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "renewed");
        var notRenewed = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "notrenewed");
        await PrimeAsync(layer, renewed);
        await PrimeAsync(layer, notRenewed);
        await Within(layer.GroupAddAsync(group, renewed));
        await Within(layer.GroupAddAsync(group, notRenewed));

        await AdvanceTimeAsync(g * 1.5);
        var renewal = RealTimeWindows.Start();
        await Within(layer.GroupAddAsync(group, renewed));
        await AdvanceTimeAsync(g * 1.5); // 3 g since the first add (past group expiry + g), 1.5 g since the renewal

        var message = Msg("test.renewed");
        windows.Require(renewal, g * 1.75, "the group send comes within the group expiry of the renewal");
        await Within(layer.GroupSendAsync(group, message));

        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, renewed));
        if (SupportsGroupExpiry)
        {
            await AssertNoMessageAsync(layer, notRenewed);
        }
        else
        {
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, notRenewed));
        }

        await AssertNoMessageAsync(layer, renewed);
    });
}
