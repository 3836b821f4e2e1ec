using Channels.Net.Layers;

namespace Channels.Net.Benchmarks.Scenarios;

/// <summary>Messages shared by the scenarios. Each is built once and reused for every send.</summary>
public static class BenchMessages
{
    /// <summary>Length of the <c>text</c> body: 100 ASCII characters (100 bytes as UTF-8 on a wire).</summary>
    public const int BodyLength = 100;

    /// <summary><c>{"type": "chat.message", "text": "&lt;100 characters&gt;"}</c>.</summary>
    public static ChannelMessage Chat100() => ChannelMessage.Create(
        "chat.message",
        [new KeyValuePair<string, object?>("text", new string('x', BodyLength))]);
}
