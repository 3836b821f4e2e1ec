using System.Text.RegularExpressions;
using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>A send to a channel holding its capacity throws <see cref="ChannelFullException"/> naming
    /// the channel and the capacity, and the refused message is not queued. Without capacity
    /// (<see cref="SupportsCapacity"/> false) the send succeeds and every message arrives.</summary>
    [Fact]
    public async Task Capacity_SendToFullChannel_ThrowsChannelFull()
    {
        const int capacity = 3;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Capacity = capacity });
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "full");
        for (var i = 0; i < capacity; i++)
        {
            await Within(layer.SendAsync(channel, Msg("test.full", ("n", i))));
        }

        if (SupportsCapacity)
        {
            var full = await Assert.ThrowsAsync<ChannelFullException>(async () => await Within(layer.SendAsync(channel, Msg("test.full", ("n", capacity)))));
            Assert.Equal(channel, full.Channel);
            Assert.Equal(capacity, full.Capacity);
            Assert.Contains(channel, full.Message, StringComparison.Ordinal);

            var received = await ReceiveManyAsync(layer, channel, capacity);
            Assert.Equal([0L, 1L, 2L], received.Select(m => Int(m, "n")));
        }
        else
        {
            await Within(layer.SendAsync(channel, Msg("test.full", ("n", capacity))));
            var received = await ReceiveManyAsync(layer, channel, capacity + 1);
            Assert.Equal([0L, 1L, 2L, 3L], received.Select(m => Int(m, "n")));
        }

        await AssertNoMessageAsync(layer, channel);
    }

    /// <summary>A full channel accepts sends again as soon as receives make room, and only as much as they made.</summary>
    [Fact]
    public async Task Capacity_DrainedChannel_AcceptsNewSends()
    {
        const int capacity = 3;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Capacity = capacity });
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "drain");
        var n = 0;
        for (; n < capacity; n++)
        {
            await Within(layer.SendAsync(channel, Msg("test.drain", ("n", n))));
        }

        Assert.Equal(0, Int(await ReceiveWithinAsync(layer, channel), "n"));
        await Within(layer.SendAsync(channel, Msg("test.drain", ("n", n++))));
        if (SupportsCapacity)
        {
            await Assert.ThrowsAsync<ChannelFullException>(async () => await Within(layer.SendAsync(channel, Msg("test.drain", ("n", -1)))));
            Assert.Equal([1L, 2L, 3L], (await ReceiveManyAsync(layer, channel, capacity)).Select(m => Int(m, "n")));
        }
        else
        {
            await Within(layer.SendAsync(channel, Msg("test.drain", ("n", -1))));
            Assert.Equal([1L, 2L, 3L, -1L], (await ReceiveManyAsync(layer, channel, capacity + 1)).Select(m => Int(m, "n")));
        }

        await AssertNoMessageAsync(layer, channel);

        for (var i = 0; i < capacity; i++)
        {
            await Within(layer.SendAsync(channel, Msg("test.drain", ("n", n++))));
        }

        Assert.Equal([4L, 5L, 6L], (await ReceiveManyAsync(layer, channel, capacity)).Select(m => Int(m, "n")));
    }

    /// <summary>
    /// <c>channel_capacity</c>: globs match the whole name, regular expressions match at the start of
    /// the name, the first matching rule wins, and a channel no rule matches has the default capacity.
    /// </summary>
    [Fact]
    public async Task Capacity_ChannelCapacityRules_FirstMatchWins()
    {
        var p = "cap" + Guid.NewGuid().ToString("N")[..12];
        var layer = await NewLayerAsync(new ConformanceLayerOptions
        {
            Capacity = 6,
            ChannelCapacity =
            [
                ChannelCapacityRule.Glob($"{p}.small.*", 1),
                ChannelCapacityRule.FromRegex($@"{Regex.Escape(p)}\.mid\.", 2),
                ChannelCapacityRule.Glob($"{p}.*", 4),
                ChannelCapacityRule.Glob($"{p}.small.never", 5),
            ],
        });

        await AssertCapacityAsync(layer, $"{p}.small.x", 1);        // rules 1 and 3 match: the first wins
        await AssertCapacityAsync(layer, $"{p}.small.never", 1);    // rule 4 never wins over rule 1
        await AssertCapacityAsync(layer, $"{p}.mid.x", 2);          // the regex
        await AssertCapacityAsync(layer, $"{p}.mid.x.y.z", 2);      // a regex need not match the end
        await AssertCapacityAsync(layer, $"{p}.mid", 4);            // the regex wants "mid." : the third rule
        await AssertCapacityAsync(layer, $"{p}.small", 4);          // the first glob wants "small." : the third rule
        await AssertCapacityAsync(layer, $"x{p}.small.x", 6);       // a glob must match from the start
        await AssertCapacityAsync(layer, $"z.{p}.mid.x", 6);        // so must a regex
        await AssertCapacityAsync(layer, $"other{p}", 6);           // no rule: the default
    }

    /// <summary>Glob rules follow Python's <c>fnmatch</c>: <c>?</c> is one character, <c>[abc]</c> one of a set,
    /// <c>[!abc]</c> one not in it; regular expressions may use Python's <c>(?P&lt;name&gt;…)</c>.</summary>
    [Fact]
    public async Task Capacity_GlobClassesAndPythonRegex_AreUnderstood()
    {
        var p = "cap" + Guid.NewGuid().ToString("N")[..12];
        var layer = await NewLayerAsync(new ConformanceLayerOptions
        {
            Capacity = 5,
            ChannelCapacity =
            [
                ChannelCapacityRule.Glob($"{p}.[abc]?", 1),
                ChannelCapacityRule.Glob($"{p}.[!abc]*", 2),
                ChannelCapacityRule.FromRegex($@"(?P<prefix>{Regex.Escape(p)})-(?P<kind>re|rx)\b", 3),
            ],
        });

        await AssertCapacityAsync(layer, $"{p}.ax", 1);
        await AssertCapacityAsync(layer, $"{p}.cZ", 1);
        await AssertCapacityAsync(layer, $"{p}.a", 5);     // '?' needs one character; '[!abc]' refuses 'a'
        await AssertCapacityAsync(layer, $"{p}.axx", 5);   // '?' is exactly one character
        await AssertCapacityAsync(layer, $"{p}.dx", 2);
        await AssertCapacityAsync(layer, $"{p}.d", 2);     // '*' may be empty
        await AssertCapacityAsync(layer, $"{p}.Ax", 2);    // classes are case-sensitive
        await AssertCapacityAsync(layer, $"{p}-re.x", 3);
        await AssertCapacityAsync(layer, $"{p}-rx", 3);
        await AssertCapacityAsync(layer, $"{p}-rex", 5);
    }

    /// <summary>A group send skips a member whose channel is full, without throwing, and still delivers
    /// to every other member. Without capacity, the "full" member gets it too.</summary>
    [Fact]
    public async Task GroupSend_FullMember_IsSkippedAndOthersStillReceive()
    {
        const int capacity = 2;
        var layer = await NewLayerAsync(new ConformanceLayerOptions { Capacity = capacity });
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("fullgroup");
        var before = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "fullgroup");
        var full = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "fullgroup");
        var after = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "fullgroup");
        foreach (var member in new[] { before, full, after })
        {
            await Within(layer.GroupAddAsync(group, member));
        }

        for (var i = 0; i < capacity; i++)
        {
            await Within(layer.SendAsync(full, Msg("test.direct", ("n", i))));
        }

        var message = Msg("test.group", ("text", "to all"));
        await Within(layer.GroupSendAsync(group, message));

        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, before));
        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, after));
        Assert.Equal(["test.direct", "test.direct"], (await ReceiveManyAsync(layer, full, capacity)).Select(m => m.Type));
        if (SupportsCapacity)
        {
            await AssertNoMessageAsync(layer, full);
        }
        else
        {
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, full));
        }

        // The skipped member is still a member: once it has room, the next group send reaches it.
        await Within(layer.GroupSendAsync(group, Msg("test.group.again")));
        Assert.Equal("test.group.again", (await ReceiveWithinAsync(layer, full)).Type);
        Assert.Equal("test.group.again", (await ReceiveWithinAsync(layer, before)).Type);
        Assert.Equal("test.group.again", (await ReceiveWithinAsync(layer, after)).Type);
    }

    /// <summary>Sends to <paramref name="channel"/> until it is full and checks that happened after exactly
    /// <paramref name="capacity"/> messages (or, without capacity, that one more is accepted), then drains it.</summary>
    private async Task AssertCapacityAsync(IChannelLayer layer, string channel, int capacity)
    {
        await Within(BeginListeningAsync(layer, channel));
        for (var i = 0; i <= capacity; i++)
        {
            try
            {
                await Within(layer.SendAsync(channel, Msg("test.capacity", ("n", i))));
            }
            catch (ChannelFullException full) when (SupportsCapacity)
            {
                Assert.True(
                    i == capacity && full.Capacity == capacity && full.Channel == channel,
                    $"'{channel}' should hold {capacity} message(s), but send number {i + 1} failed reporting '{full.Channel}' with capacity {full.Capacity}.");
                await ReceiveManyAsync(layer, channel, i);
                return;
            }
        }

        Assert.False(SupportsCapacity, $"'{channel}' should hold {capacity} message(s), but it accepted {capacity + 1}.");
        await ReceiveManyAsync(layer, channel, capacity + 1);
    }
}
