using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Interop.Tests;

/// <summary>send to a process-local channel of the other process, and to a named plain channel it receives on.</summary>
[Collection(InteropCollection.Name)]
public sealed class SendTests(InteropEnvironment env)
{
    public static TheoryData<Direction, Encryption> Matrix => Messages.Matrix();

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Send_to_a_process_local_channel_of_the_other_process_arrives_in_order(Direction direction, Encryption encryption)
    {
        await using var pair = await env.CreatePairAsync(direction, encryption);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        var first = await receiver.NewChannelAsync();
        var second = await receiver.NewChannelAsync();
        Assert.StartsWith("specific." + receiver.ClientPrefix + "!", first, StringComparison.Ordinal);

        var messages = Enumerable.Range(1, 3).Select(i => Messages.Of("direct.message", ("n", (long)i), ("text", $"message {i} from {sender.Process}"))).ToArray();
        foreach (var message in messages)
        {
            await sender.SendOkAsync(first, message);
        }

        var other = Messages.Of("direct.other", ("to", "second"));
        await sender.SendOkAsync(second, other);

        // Both channels share the process's one Redis key; each gets its own messages only, in order.
        MessageAssert.Equal(other, await receiver.ReceiveAsync(second));
        foreach (var message in messages)
        {
            MessageAssert.Equal(message, await receiver.ReceiveAsync(first));
        }

        var last = Messages.Of("direct.last");
        await sender.SendOkAsync(second, last);
        MessageAssert.Equal(last, await receiver.ReceiveAsync(second)); // nothing else was queued for it
        Assert.Equal(0, await env.Inspect.SortedSetLengthAsync(pair.Prefix + "specific." + receiver.ClientPrefix + "!"));
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Send_to_a_named_worker_channel_is_received_by_the_other_process(Direction direction, Encryption encryption)
    {
        await using var pair = await env.CreatePairAsync(direction, encryption);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        const string worker = "thumbnails-worker";

        var messages = Enumerable.Range(1, 3).Select(i => Messages.Of("thumbnail.generate", ("id", (long)i), ("path", $"/media/{i}.png"))).ToArray();
        foreach (var message in messages)
        {
            await sender.SendOkAsync(worker, message);
        }

        Assert.Equal(3, await env.Inspect.SortedSetLengthAsync(pair.Prefix + worker));
        foreach (var message in messages)
        {
            MessageAssert.Equal(message, await receiver.ReceiveAsync(worker));
        }

        Assert.Equal(0, await env.Inspect.SortedSetLengthAsync(pair.Prefix + worker));
    }
}
