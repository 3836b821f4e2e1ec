using Channels.Net.Layers;

namespace Channels.Net.Benchmarks.Scenarios.Msgpack;

/// <summary>The two channels_redis messages the msgpack suite encodes and decodes; built once, deterministic.</summary>
public static class MsgpackMessages
{
    /// <summary>Members in the group message's <c>__asgi_channel__</c> list.</summary>
    public const int GroupMembers = 100;

    /// <summary><c>{"type": "chat.message", "message": "&lt;100 ASCII characters&gt;"}</c>.</summary>
    public static ChannelMessage Chat() => ChannelMessage.Create(
        "chat.message",
        [new KeyValuePair<string, object?>("message", new string('x', BenchMessages.BodyLength))]);

    /// <summary>A process-local channel name as the Redis layer makes them: <c>specific.&lt;32 hex&gt;!&lt;32 hex&gt;</c> (82 bytes).</summary>
    public static string ChannelName(Random random) => $"specific.{Hex(random)}!{Hex(random)}";

    /// <summary>The one channel of the single-channel send.</summary>
    public static string OneChannel() => ChannelName(new Random(1));

    /// <summary>The <see cref="GroupMembers"/> channels of the group send, each with its own client prefix (one per process).</summary>
    public static string[] GroupChannels()
    {
        var random = new Random(2);
        return [.. Enumerable.Range(0, GroupMembers).Select(_ => ChannelName(random))];
    }

    private static string Hex(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
