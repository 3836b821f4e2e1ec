using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Interop.Tests;

/// <summary>group_send into a group whose members live in both processes.</summary>
[Collection(InteropCollection.Name)]
public sealed class GroupSendTests(InteropEnvironment env)
{
    public static TheoryData<Direction, Encryption> Matrix => Messages.Matrix();

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Group_send_reaches_every_member_in_both_processes_exactly_once(Direction direction, Encryption encryption)
    {
        await using var pair = await env.CreatePairAsync(direction, encryption);
        var (sender, receiver) = (pair.Sender, pair.Receiver);

        // Two members in each process: the two of one process share one Redis key, so each group
        // message to it names both (__asgi_channel__ is a list). Memberships are written by both sides.
        var senderA = await sender.NewChannelAsync();
        var senderB = await sender.NewChannelAsync();
        var receiverA = await receiver.NewChannelAsync();
        var receiverB = await receiver.NewChannelAsync();
        var outsider = await receiver.NewChannelAsync();
        var group = "room-" + Guid.NewGuid().ToString("N")[..8];
        await sender.GroupAddAsync(group, senderA);
        await sender.GroupAddAsync(group, receiverA);
        await receiver.GroupAddAsync(group, senderB);
        await receiver.GroupAddAsync(group, receiverB);
        await sender.GroupAddAsync(group, "group-worker"); // a plain channel can be a member too (its message carries __asgi_channel__ = ["group-worker"])

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

        MessageAssert.Equal(first, await receiver.ReceiveAsync("group-worker"));
        MessageAssert.Equal(second, await receiver.ReceiveAsync("group-worker"));

        // A channel of the same process that is not in the group got nothing: its next message is one sent to it directly.
        var direct = Messages.Of("direct", ("to", "outsider"));
        await sender.SendOkAsync(outsider, direct);
        MessageAssert.Equal(direct, await receiver.ReceiveAsync(outsider));

        // group_discard from the other process takes effect for the sender's group_send.
        await receiver.GroupDiscardAsync(group, receiverB);
        var third = Messages.Of("chat.message", ("message", "after discard"), ("n", 3L));
        await sender.GroupSendAsync(group, third);
        var marker = Messages.Of("marker");
        await sender.SendOkAsync(receiverB, marker);
        MessageAssert.Equal(third, await receiver.ReceiveAsync(receiverA));
        MessageAssert.Equal(marker, await receiver.ReceiveAsync(receiverB));

        // Nothing the receiver was sent is left behind in its process key.
        Assert.Equal(0, await env.Inspect.SortedSetLengthAsync(pair.Prefix + "specific." + receiver.ClientPrefix + "!"));
    }
}
