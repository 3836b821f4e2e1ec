using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Interop.Tests.PubSub;

/// <summary>group_send on channels_redis's pub/sub layer and ours into a group with members in both processes.</summary>
[Collection(InteropCollection.Name)]
public sealed class PubSubGroupTests(InteropEnvironment env)
{
    public static TheoryData<Direction> Directions => [Direction.DotNetToPython, Direction.PythonToDotNet];

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task Group_send_reaches_every_member_in_both_processes_exactly_once(Direction direction)
    {
        await using var pair = await env.CreatePubSubPairAsync(direction);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        var senderA = await sender.NewChannelAsync();
        var senderB = await sender.NewChannelAsync();
        var receiverA = await receiver.NewChannelAsync();
        var receiverB = await receiver.NewChannelAsync();
        var outsider = await receiver.NewChannelAsync();
        var group = "room-" + Guid.NewGuid().ToString("N")[..8];
        var groupChannel = pair.GroupChannel(group);

        // In pub/sub a process adds its own channels: memberships live where the channel is received.
        await sender.GroupAddAsync(group, senderA);
        await sender.GroupAddAsync(group, senderB);
        await receiver.GroupAddAsync(group, receiverA);
        await receiver.GroupAddAsync(group, receiverB);
        await env.WaitForSubscribersAsync(groupChannel, 2); // one subscription per process, however many members

        var first = Messages.Of("chat.message", ("message", "hello from " + sender.Process + " — 你好 🎉"), ("n", 1L));
        var second = Messages.Of("chat.message", ("message", "second"), ("n", 2L));
        await sender.GroupSendAsync(group, first);
        await sender.GroupSendAsync(group, second);

        // Exactly once: each member's next two messages are the first, then the second (a duplicate would come in between).
        foreach (var (side, channel) in new[] { (receiver, receiverA), (receiver, receiverB), (sender, senderA), (sender, senderB) })
        {
            MessageAssert.Equal(first, await side.ReceiveAsync(channel));
            MessageAssert.Equal(second, await side.ReceiveAsync(channel));
        }

        // A channel of the same process that is not in the group got nothing: its next message is one sent to it directly.
        var direct = Messages.Of("direct", ("to", "outsider"));
        await sender.SendOkAsync(outsider, direct);
        MessageAssert.Equal(direct, await receiver.ReceiveAsync(outsider));

        // A discard in the receiving process takes effect for the other process's group_send; its other member still gets it.
        await receiver.GroupDiscardAsync(group, receiverB);
        var third = Messages.Of("chat.message", ("message", "after discard"), ("n", 3L));
        await sender.GroupSendAsync(group, third);
        var marker = Messages.Of("marker");
        await sender.SendOkAsync(receiverB, marker);
        MessageAssert.Equal(third, await receiver.ReceiveAsync(receiverA));
        MessageAssert.Equal(marker, await receiver.ReceiveAsync(receiverB));
        MessageAssert.Equal(third, await sender.ReceiveAsync(senderA));

        // The last member leaving unsubscribes that process from the group, and only that one.
        await receiver.GroupDiscardAsync(group, receiverA);
        await env.WaitForSubscribersAsync(groupChannel, 1);
        await sender.GroupSendAsync(group, Messages.Of("chat.message", ("n", 4L)));
        Assert.Equal(3L, (await sender.ReceiveAsync(senderB)).GetInt64("n"));
        Assert.Equal(4L, (await sender.ReceiveAsync(senderB)).GetInt64("n"));
        Assert.Equal(4L, (await sender.ReceiveAsync(senderA)).GetInt64("n"));
        await sender.SendOkAsync(receiverA, marker); // the group's fourth message did not reach it: the marker is next
        MessageAssert.Equal(marker, await receiver.ReceiveAsync(receiverA));
    }

    [Fact]
    public async Task Neither_layer_adds_the_other_process_channel_to_a_group()
    {
        await using var pair = await env.CreatePubSubPairAsync(Direction.DotNetToPython);
        var dotNetChannel = await pair.DotNet.NewChannelAsync();
        var pythonChannel = await pair.Python.NewChannelAsync();
        var group = "room-" + Guid.NewGuid().ToString("N")[..8];

        var python = await Assert.ThrowsAsync<PythonPeerException>(() => pair.Python.GroupAddAsync(group, dotNetChannel));
        Assert.Equal("RuntimeError", python.Name);
        Assert.Contains("You can only call group_add() on channels that exist in-process", python.PythonMessage, StringComparison.Ordinal);

        var dotNet = await Assert.ThrowsAsync<InvalidOperationException>(() => pair.DotNet.GroupAddAsync(group, pythonChannel));
        Assert.Contains($"'{pythonChannel}'", dotNet.Message, StringComparison.Ordinal);

        await env.WaitForSubscribersAsync(pair.GroupChannel(group), 0);
    }
}
