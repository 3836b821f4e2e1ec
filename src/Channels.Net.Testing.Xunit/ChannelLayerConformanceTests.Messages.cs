using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>A map without <c>type</c> is not a message.</summary>
    [Fact]
    public void Messages_WithoutType_AreRefused()
    {
        var fromObject = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(new { text = "hello" }));
        Assert.Contains("'type'", fromObject.Message, StringComparison.Ordinal);

        var fromMap = Assert.Throws<InvalidChannelMessageException>(() =>
            ChannelMessage.FromMap(MessageMap.Create([new("text", "hello")])));
        Assert.Contains("'type'", fromMap.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromMap(MessageMap.Empty));
    }

    /// <summary>A <c>type</c> that is not a string is refused, and the error says what it is.</summary>
    [Fact]
    public void Messages_WithNonStringType_AreRefused()
    {
        object?[] types = [null, 5, 1.5, true, new byte[] { 1 }, new[] { "a" }, new Dictionary<string, object?> { ["a"] = 1 }];
        string[] described = ["null", "integer", "float", "bool", "bytes", "list", "map"];
        for (var i = 0; i < types.Length; i++)
        {
            var map = MessageMap.Create([new("type", types[i])]);
            var fromMap = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromMap(map));
            Assert.Contains("'type' must be a string", fromMap.Message, StringComparison.Ordinal);
            Assert.Contains(described[i], fromMap.Message, StringComparison.Ordinal);

            var fromObject = Assert.Throws<InvalidChannelMessageException>(() =>
                ChannelMessage.From(new Dictionary<string, object?> { ["type"] = types[i] }));
            Assert.Contains("'type' must be a string", fromObject.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The key <c>__asgi_channel__</c> is reserved for the layer's own routing: a message using it is refused.</summary>
    [Fact]
    public void Messages_WithReservedKey_AreRefused()
    {
        var fromDictionary = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(
            new Dictionary<string, object?> { ["type"] = "test.reserved", [ChannelNames.ReservedMessageKey] = "x!y" }));
        Assert.Contains(ChannelNames.ReservedMessageKey, fromDictionary.Message, StringComparison.Ordinal);

        var fromMap = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromMap(
            MessageMap.Create([new("type", "test.reserved"), new(ChannelNames.ReservedMessageKey, MessageList.Create(["a!b"]))])));
        Assert.Contains(ChannelNames.ReservedMessageKey, fromMap.Message, StringComparison.Ordinal);

        var fromJson = Assert.Throws<InvalidChannelMessageException>(() =>
            ChannelMessage.FromJson("""{"type":"test.reserved","__asgi_channel__":"a!b"}"""));
        Assert.Contains(ChannelNames.ReservedMessageKey, fromJson.Message, StringComparison.Ordinal);

        var with = Assert.Throws<InvalidChannelMessageException>(() => Msg("test.reserved").With(ChannelNames.ReservedMessageKey, "a!b"));
        Assert.Contains(ChannelNames.ReservedMessageKey, with.Message, StringComparison.Ordinal);
    }

    /// <summary>Every kind of value a message carries survives a send and a receive exactly: the same
    /// kinds, the same values, the keys in the same order.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task RoundTrip_EveryValueKind_ArrivesIntact(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "kinds");
        var message = EveryValueKind();

        await Within(layer.SendAsync(channel, message));
        var received = await ReceiveWithinAsync(layer, channel);

        MessageAssert.Equal(message, received);
        Assert.Equal("test.kinds", received.Type);
        Assert.False(received.ContainsKey(ChannelNames.ReservedMessageKey));
    }

    /// <summary>A group send carries every kind of value intact to every member, whatever its kind of channel.</summary>
    [Fact]
    public async Task RoundTrip_GroupSendOfEveryValueKind_ArrivesIntact()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var group = UniqueName("kinds");
        string[] members =
        [
            await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "kinds"),
            await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "kinds"),
            await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "kinds"),
        ];
        foreach (var member in members)
        {
            await Within(layer.GroupAddAsync(group, member));
        }

        var message = EveryValueKind();
        await Within(layer.GroupSendAsync(group, message));
        foreach (var member in members)
        {
            var received = await ReceiveWithinAsync(layer, member);
            MessageAssert.Equal(message, received);
            Assert.False(received.ContainsKey(ChannelNames.ReservedMessageKey));
        }
    }

    /// <summary>A message holding a 1 MB string arrives intact.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task RoundTrip_OneMegabyteString_ArrivesIntact(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "large");
        const string unit = "abcdefgh日本語😀\u00e9\u0000";
        var text = string.Concat(Enumerable.Repeat(unit, (1 << 20) / unit.Length + 1));
        Assert.True(text.Length >= 1 << 20);
        var message = Msg("test.large", ("text", text));

        await Within(layer.SendAsync(channel, message));

        MessageAssert.Equal(message, await ReceiveWithinAsync(layer, channel));
    }

    /// <summary>A message holding 1 MB of bytes (every byte value, 0x00 and 0xFF included) arrives intact.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task RoundTrip_OneMegabyteBytes_ArrivesIntact(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "large");
        var bytes = new byte[1 << 20];
        new Random(20261125).NextBytes(bytes);
        bytes[0] = 0x00;
        bytes[^1] = 0xFF;
        var message = Msg("test.large", ("bytes", bytes));

        await Within(layer.SendAsync(channel, message));

        var received = await ReceiveWithinAsync(layer, channel);
        MessageAssert.Equal(message, received);
        Assert.True(received.GetBytes("bytes")!.Value.Span.SequenceEqual(bytes));
    }

    /// <summary>A message holding null, bools, integers at every edge, doubles (NaN, infinities, -0.0),
    /// unicode strings, bytes and nested lists and maps.</summary>
    private static ChannelMessage EveryValueKind()
    {
        var allBytes = new byte[256];
        for (var i = 0; i < allBytes.Length; i++)
        {
            allBytes[i] = (byte)i;
        }

        var nested = new Dictionary<string, object?>
        {
            ["list"] = new object?[] { 1, "two", 3.5, null, true, new byte[] { 0x00, 0xFF }, new object?[] { new object?[] { "deep" } } },
            ["map"] = new Dictionary<string, object?> { ["inner"] = new Dictionary<string, object?> { ["x"] = -1, ["y"] = new object?[0] } },
            ["empty_list"] = Array.Empty<object?>(),
            ["empty_map"] = new Dictionary<string, object?>(),
        };

        var message = Msg(
            "test.kinds",
            ("null", null),
            ("true", true),
            ("false", false),
            ("zero", 0L),
            ("minus_one", -1L),
            ("int_max", (long)int.MaxValue + 1),
            ("long_min", long.MinValue),
            ("long_max", long.MaxValue),
            ("ulong_past_long", (ulong)long.MaxValue + 1),
            ("ulong_max", ulong.MaxValue),
            ("double", 1.5),
            ("double_whole", 2.0),
            ("double_negative_zero", -0.0),
            ("double_nan", double.NaN),
            ("double_pos_inf", double.PositiveInfinity),
            ("double_neg_inf", double.NegativeInfinity),
            ("double_epsilon", double.Epsilon),
            ("double_max", double.MaxValue),
            ("empty_string", ""),
            ("ascii", "hello, world"),
            ("accents", "héllo wörld ñ"),
            ("cjk", "日本語の文章 中文 한국어"),
            ("emoji", "😀👍🏽🇫🇷 family: 👨‍👩‍👧"),
            ("controls", "nul:\u0000 tab:\t newline:\n"),
            ("bytes_empty", Array.Empty<byte>()),
            ("bytes_edges", new byte[] { 0x00, 0xFF, 0x80, 0x7F, 0x00 }),
            ("bytes_all", allBytes),
            ("nested", nested),
            ("unicode_key_é日😀", "key"));

        // The kinds must be what the contract says before the layer ever sees them.
        Assert.IsType<long>(message["zero"]);
        Assert.IsType<ulong>(message["ulong_past_long"]);
        Assert.IsType<double>(message["double_whole"]);
        Assert.IsType<ReadOnlyMemory<byte>>(message["bytes_all"]);
        Assert.IsType<MessageMap>(message["nested"]);
        Assert.IsType<MessageList>(((MessageMap)message["nested"]!)["list"]);
        return message;
    }
}
