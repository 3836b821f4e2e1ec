using System.Buffers;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>Encoding allocates nothing of its own: it writes straight into the caller's buffer.</summary>
public sealed class MessageCodecAllocationTests
{
    [Fact]
    public void Encode_IntoAPresizedBuffer_AllocatesNothing()
    {
        var message = Message(
            "chat.message",
            ("message", "hello, 世界 — a message of ordinary length"),
            ("n", 123456789L),
            ("f", 2.5),
            ("blob", Bytes(1, 2, 3, 4)),
            ("list", List(1, "two", List(3.0))),
            ("map", Map(("a", Map(("b", null))))));
        string[] channels = ["specific.abc!d1", "specific.abc!d2"];
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);

        // Warm up (JIT, static initialisation).
        for (var i = 0; i < 10; i++)
        {
            MessageCodec.Encode(message, channels, buffer);
            buffer.ResetWrittenCount();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            MessageCodec.Encode(message, channels, buffer);
            buffer.ResetWrittenCount();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Decode_SmallIntegersAndBooleans_AreSharedBoxes()
    {
        var first = MessageCodec.Decode(MessageCodec.Encode(Message("t", ("n", 5L), ("b", true))));
        var second = MessageCodec.Decode(MessageCodec.Encode(Message("t", ("n", 5L), ("b", true))));

        Assert.Same(first.Message["n"], second.Message["n"]);
        Assert.Same(first.Message["b"], second.Message["b"]);
        Assert.Same("type", first.Message.Keys.First());
    }
}
