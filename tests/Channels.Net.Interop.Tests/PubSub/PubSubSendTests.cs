using System.Text.RegularExpressions;
using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Interop.Tests.PubSub;

/// <summary>send between channels_redis's pub/sub layer and ours: to the other process's new channel, to a
/// worker channel it listens on, every value kind, past a megabyte, and what is lost when nobody listens.</summary>
[Collection(InteropCollection.Name)]
public sealed class PubSubSendTests(InteropEnvironment env)
{
    public static TheoryData<Direction> Directions => [Direction.DotNetToPython, Direction.PythonToDotNet];

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task Send_to_a_new_channel_of_the_other_process_arrives_in_order(Direction direction)
    {
        await using var pair = await env.CreatePubSubPairAsync(direction);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        var first = await receiver.NewChannelAsync();
        var second = await receiver.NewChannelAsync();

        // Both layers name new channels {prefix}specific.{uuid4 hex}.
        var shape = "^" + Regex.Escape(pair.Prefix) + @"specific\.[0-9a-f]{32}$";
        Assert.Matches(shape, first);
        Assert.Matches(shape, await sender.NewChannelAsync());

        var messages = Enumerable.Range(1, 5).Select(i => Messages.Of("direct.message", ("n", (long)i), ("text", $"message {i} from {sender.Process}"))).ToArray();
        foreach (var message in messages)
        {
            await sender.SendOkAsync(first, message);
        }

        var other = Messages.Of("direct.other", ("to", "second"));
        await sender.SendOkAsync(second, other);

        MessageAssert.Equal(other, await receiver.ReceiveAsync(second));
        foreach (var message in messages)
        {
            MessageAssert.Equal(message, await receiver.ReceiveAsync(first));
        }

        var last = Messages.Of("direct.last");
        await sender.SendOkAsync(second, last);
        MessageAssert.Equal(last, await receiver.ReceiveAsync(second)); // nothing else was queued for it
    }

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task A_worker_channel_gets_what_is_sent_once_the_other_process_listens_and_nothing_sent_before(Direction direction)
    {
        await using var pair = await env.CreatePubSubPairAsync(direction);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        var worker = "thumbnails-" + Guid.NewGuid().ToString("N")[..8];

        // Nobody subscribes yet: Redis drops it (no persistence, in both implementations).
        await sender.SendOkAsync(worker, Messages.Of("thumbnail.generate", ("id", 0L)));
        await receiver.ListenAsync(worker);

        var messages = Enumerable.Range(1, 3).Select(i => Messages.Of("thumbnail.generate", ("id", (long)i), ("path", $"/media/{i}.png"))).ToArray();
        foreach (var message in messages)
        {
            await sender.SendOkAsync(worker, message);
        }

        foreach (var message in messages)
        {
            MessageAssert.Equal(message, await receiver.ReceiveAsync(worker));
        }

        Assert.Null(await receiver.TryReceiveAsync(worker, TimeSpan.FromMilliseconds(300)));
    }

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task Every_value_kind_arrives_exactly_by_send_worker_channel_and_group_send(Direction direction)
    {
        await using var pair = await env.CreatePubSubPairAsync(direction);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        var message = ValueKindsTests.AllKinds();
        var local = await receiver.NewChannelAsync();
        var group = "values-" + Guid.NewGuid().ToString("N")[..8];
        await receiver.GroupAddAsync(group, local);
        await env.WaitForSubscribersAsync(pair.GroupChannel(group), 1);
        var worker = "values-worker-" + Guid.NewGuid().ToString("N")[..8];
        await receiver.ListenAsync(worker);

        await sender.SendOkAsync(local, message);
        await sender.SendOkAsync(worker, message);
        await sender.GroupSendAsync(group, message);

        MessageAssert.Equal(message, await receiver.ReceiveAsync(local));
        MessageAssert.Equal(message, await receiver.ReceiveAsync(worker));
        MessageAssert.Equal(message, await receiver.ReceiveAsync(local));
    }

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task A_message_past_one_megabyte_arrives_exactly(Direction direction)
    {
        await using var pair = await env.CreatePubSubPairAsync(direction);
        var payload = new byte[1_200_000];
        new Random(7).NextBytes(payload);
        var message = Messages.Of("big.upload", ("data", payload), ("note", string.Concat(Enumerable.Repeat("ü€😀", 50_000))));
        var local = await pair.Receiver.NewChannelAsync();

        await pair.Sender.SendOkAsync(local, message);

        MessageAssert.Equal(message, await pair.Receiver.ReceiveAsync(local));
    }

    [Fact]
    public async Task A_message_from_Python_that_is_not_a_channel_message_is_dropped_with_a_warning_and_the_next_one_arrives()
    {
        await using var pair = await env.CreatePubSubPairAsync(Direction.PythonToDotNet);
        var local = await pair.DotNet.NewChannelAsync();

        // channels_redis publishes any dict; ours needs a string "type".
        await pair.Python.SendOkAsync(local, MessageMap.Create([new("text", "no type here")]));
        await pair.Python.SendOkAsync(local, MessageMap.Create([new("type", 42L)]));
        var next = Messages.Of("chat.message", ("message", "fine"));
        await pair.Python.SendOkAsync(local, next);

        MessageAssert.Equal(next, await pair.DotNet.ReceiveAsync(local));
        var warnings = pair.DotNet.Logs.Entries.Where(e => e.EventId.Id == 520).ToArray();
        Assert.Equal(2, warnings.Length);
        Assert.All(warnings, w => Assert.Contains($"'{local}'", w.Message, StringComparison.Ordinal));
    }
}
