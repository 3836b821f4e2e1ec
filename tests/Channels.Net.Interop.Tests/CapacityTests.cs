using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Interop.Tests;

/// <summary>
/// A sender's capacity applies to the other process's channel as it sits in Redis: past it, Python's
/// send raises <c>ChannelFull</c> and .NET's throws <c>ChannelFullException</c>; group_send drops silently.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class CapacityTests(InteropEnvironment env)
{
    private const int Capacity = 3;

    public static TheoryData<Direction, Encryption, bool> Matrix()
    {
        var data = new TheoryData<Direction, Encryption, bool>();
        foreach (var (direction, encryption) in Messages.Matrix().Select(row => ((Direction)row[0], (Encryption)row[1])))
        {
            data.Add(direction, encryption, true);
            data.Add(direction, encryption, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Sending_past_capacity_to_the_other_process_channel_raises_channel_full(Direction direction, Encryption encryption, bool processLocal)
    {
        await using var pair = await env.CreatePairAsync(direction, encryption, senderCapacity: Capacity);
        var (sender, receiver) = (pair.Sender, pair.Receiver);

        // Nothing receives until the channel is full: the messages stay in Redis, where capacity is counted.
        var channel = processLocal ? await receiver.NewChannelAsync() : "capacity-worker";
        var key = pair.Prefix + (processLocal ? "specific." + receiver.ClientPrefix + "!" : channel);
        var messages = Enumerable.Range(1, Capacity).Select(i => Messages.Of("fill", ("n", (long)i))).ToArray();
        foreach (var message in messages)
        {
            await sender.SendOkAsync(channel, message);
        }

        Assert.Equal(PeerSendResult.ChannelFull, await sender.SendAsync(channel, Messages.Of("fill", ("n", 4L))));
        Assert.Equal(Capacity, await env.Inspect.SortedSetLengthAsync(key));

        // group_send to a full member never raises; the member just does not get it.
        var group = "full-" + Guid.NewGuid().ToString("N")[..8];
        await receiver.GroupAddAsync(group, channel);
        await sender.GroupSendAsync(group, Messages.Of("dropped.by.capacity"));
        Assert.Equal(Capacity, await env.Inspect.SortedSetLengthAsync(key));

        foreach (var message in messages)
        {
            MessageAssert.Equal(message, await receiver.ReceiveAsync(channel));
        }

        // Room again: the next message is the next one sent, so neither refused message slipped in.
        var after = Messages.Of("after");
        await sender.SendOkAsync(channel, after);
        MessageAssert.Equal(after, await receiver.ReceiveAsync(channel));
    }
}
