using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>A group send reaches every member exactly once, plain and process-local channels alike,
    /// several process-local channels of one layer included.</summary>
    [Fact]
    public async Task Groups_SendReachesEveryMemberOnce()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("members");
        string[] members =
        [
            await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "members"),
            await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "members"),
            await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "members"),
            await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "members"),
            await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "others"),
        ];
        var outsider = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "members");
        foreach (var member in members)
        {
            await Within(layer.GroupAddAsync(group, member));
        }

        var message = Msg("test.members", ("text", "hello"));
        await Within(layer.GroupSendAsync(group, message));

        foreach (var member in members)
        {
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, member));
        }

        await Task.WhenAll(members.Append(outsider).Select(channel => AssertNoMessageAsync(layer, channel)));
    }

    /// <summary>A discarded member gets no further group messages; the others still do.</summary>
    [Fact]
    public async Task Groups_DiscardedMember_GetsNothing()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("discard");
        var staying = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "staying");
        var leaving = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "leaving");
        await Within(layer.GroupAddAsync(group, staying));
        await Within(layer.GroupAddAsync(group, leaving));
        await Within(layer.GroupSendAsync(group, Msg("test.before")));
        Assert.Equal("test.before", (await ReceiveWithinAsync(layer, leaving)).Type);
        Assert.Equal("test.before", (await ReceiveWithinAsync(layer, staying)).Type);

        await Within(layer.GroupDiscardAsync(group, leaving));
        await Within(layer.GroupSendAsync(group, Msg("test.after")));

        Assert.Equal("test.after", (await ReceiveWithinAsync(layer, staying)).Type);
        await AssertNoMessageAsync(layer, leaving);
    }

    /// <summary>Discarding a channel that is not a member, or from a group that does not exist, does nothing
    /// and does not throw.</summary>
    [Fact]
    public async Task Groups_DiscardOfNonMember_IsNoOp()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("noop");
        var member = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "member");
        var stranger = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "stranger");
        await Within(layer.GroupAddAsync(group, member));

        await Within(layer.GroupDiscardAsync(group, stranger));
        await Within(layer.GroupDiscardAsync(UniqueName("nosuchgroup"), member));
        await Within(layer.GroupDiscardAsync(UniqueName("nosuchgroup"), stranger));
        await Within(layer.GroupDiscardAsync(group, member));
        await Within(layer.GroupDiscardAsync(group, member)); // twice
        await Within(layer.GroupAddAsync(group, member));

        await Within(layer.GroupSendAsync(group, Msg("test.noop")));
        Assert.Equal("test.noop", (await ReceiveWithinAsync(layer, member)).Type);
        await Task.WhenAll(AssertNoMessageAsync(layer, member), AssertNoMessageAsync(layer, stranger));
    }

    /// <summary>Adding a member twice makes it a member once: a group send delivers one message to it.</summary>
    [Fact]
    public async Task Groups_AddTwice_DeliversOnce()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("twice");
        var plain = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "twice");
        var local = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "twice");
        for (var i = 0; i < 3; i++)
        {
            await Within(layer.GroupAddAsync(group, plain));
            await Within(layer.GroupAddAsync(group, local));
        }

        await Within(layer.GroupSendAsync(group, Msg("test.twice")));

        Assert.Equal("test.twice", (await ReceiveWithinAsync(layer, plain)).Type);
        Assert.Equal("test.twice", (await ReceiveWithinAsync(layer, local)).Type);
        await Task.WhenAll(AssertNoMessageAsync(layer, plain), AssertNoMessageAsync(layer, local));

        // One discard removes the member, however often it was added.
        await Within(layer.GroupDiscardAsync(group, plain));
        await Within(layer.GroupSendAsync(group, Msg("test.once")));
        Assert.Equal("test.once", (await ReceiveWithinAsync(layer, local)).Type);
        await AssertNoMessageAsync(layer, plain);
    }

    /// <summary>A group send to a group nobody joined, or whose members all left, does nothing and does not throw.</summary>
    [Fact]
    public async Task Groups_SendToEmptyGroup_DoesNothing()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("empty");
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "empty");
        await Within(layer.GroupSendAsync(UniqueName("nobody"), Msg("test.nobody")));
        await Within(layer.GroupAddAsync(group, channel));
        await Within(layer.GroupDiscardAsync(group, channel));
        await Within(layer.GroupSendAsync(group, Msg("test.empty")));

        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>Groups are independent: a channel in two groups gets each group's messages, and leaving
    /// one group leaves it in the other.</summary>
    [Fact]
    public async Task Groups_AreIndependent()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var red = UniqueName("red");
        var blue = UniqueName("blue");
        var both = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "both");
        var redOnly = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "redonly");
        await Within(layer.GroupAddAsync(red, both));
        await Within(layer.GroupAddAsync(blue, both));
        await Within(layer.GroupAddAsync(red, redOnly));

        await Within(layer.GroupSendAsync(red, Msg("test.red")));
        await Within(layer.GroupSendAsync(blue, Msg("test.blue")));
        var received = (await ReceiveManyAsync(layer, both, 2)).Select(m => m.Type).Order(StringComparer.Ordinal);
        Assert.Equal(["test.blue", "test.red"], received);
        Assert.Equal("test.red", (await ReceiveWithinAsync(layer, redOnly)).Type);

        await Within(layer.GroupDiscardAsync(red, both));
        await Within(layer.GroupSendAsync(red, Msg("test.red")));
        await Within(layer.GroupSendAsync(blue, Msg("test.blue")));
        Assert.Equal("test.blue", (await ReceiveWithinAsync(layer, both)).Type);
        Assert.Equal("test.red", (await ReceiveWithinAsync(layer, redOnly)).Type);
        await Task.WhenAll(AssertNoMessageAsync(layer, both), AssertNoMessageAsync(layer, redOnly));
    }

    /// <summary>Successive group sends from one sender reach a member in the order they were sent.</summary>
    [Fact]
    public async Task Groups_SuccessiveGroupSends_ArriveInOrder()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("order");
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "order");
        await Within(layer.GroupAddAsync(group, channel));
        for (var i = 0; i < 20; i++)
        {
            await Within(layer.GroupSendAsync(group, Msg("test.order", ("n", i))));
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), (await ReceiveManyAsync(layer, channel, 20)).Select(m => Int(m, "n")));
    }
}
