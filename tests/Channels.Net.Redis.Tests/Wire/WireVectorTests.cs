using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>The msgpack reference bytes in TestData/wire-vectors.json, made by channels_redis 4.0.0 / msgpack 1.0.3.</summary>
public sealed class WireVectorTests
{
    /// <summary>The vectors' messages built by hand from their message_repr, in the same order.</summary>
    private static readonly (ChannelMessage Message, string[]? AsgiChannels)[] Expected =
    [
        (Message("chat.message", ("message", "hello")), null),
        (Message("chat.message", ("message", "你好，世界"), ("n", 42), ("neg", -7), ("big", 1099511627776), ("f", 1.5), ("ok", true), ("none", null)), null),
        (Message("websocket.send", ("bytes", Bytes(0x00, 0x01, 0xfe, 0xff)), ("list", List(1, "two", List(3.0))), ("map", Map(("a", Map(("b", null)))))), null),
        (Message("chat.message", ("message", "x")), ["specific.abc!d1", "specific.abc!d2"]),
    ];

    public static IEnumerable<object[]> Cases => WireVectors.MsgpackCases();

    [Fact]
    public void EveryVectorHasAnExpectedMessage() => Assert.Equal(WireVectors.Msgpack.Count, Expected.Length);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_HandBuiltMessage_IsPythonsBytes(int index)
    {
        var packed = Convert.FromBase64String(WireVectors.Msgpack[index]!["packed"]!.GetValue<string>());
        var (message, channels) = Expected[index];

        var ours = channels is null ? MessageCodec.Encode(message) : MessageCodec.Encode(message, channels);

        Assert.Equal(ToHex(packed), ToHex(ours));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_PythonsBytes_IsTheMessage(int index)
    {
        var packed = Convert.FromBase64String(WireVectors.Msgpack[index]!["packed"]!.GetValue<string>());
        var (message, channels) = Expected[index];

        var decoded = MessageCodec.Decode(packed);

        MessageValueAssert.Equal(message, decoded.Message);
        Assert.Equal(message.Type, decoded.Message.Type);
        Assert.False(decoded.Message.ContainsKey(ChannelNames.ReservedMessageKey));
        if (channels is null)
        {
            Assert.Null(decoded.AsgiChannel);
            Assert.Empty(decoded.TargetChannels);
        }
        else
        {
            Assert.Equal(channels, Assert.IsAssignableFrom<IReadOnlyList<string>>(decoded.AsgiChannel));
            Assert.Equal(channels, decoded.TargetChannels);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodeThenEncode_GivesBackTheSameBytes(int index)
    {
        var packed = Convert.FromBase64String(WireVectors.Msgpack[index]!["packed"]!.GetValue<string>());

        var decoded = MessageCodec.Decode(packed);
        var again = decoded.AsgiChannel switch
        {
            null => MessageCodec.Encode(decoded.Message),
            string channel => MessageCodec.Encode(decoded.Message, channel),
            _ => MessageCodec.Encode(decoded.Message, decoded.TargetChannels),
        };

        Assert.Equal(ToHex(packed), ToHex(again));
    }

    [Fact]
    public void AsgiChannelList_IsTheLastKey()
    {
        var packed = Convert.FromBase64String(WireVectors.Msgpack[3]!["packed"]!.GetValue<string>());

        var map = Assert.IsAssignableFrom<MessageMap>(MessageCodec.DecodeValue(packed));

        Assert.Equal(["type", "message", ChannelNames.ReservedMessageKey], map.Keys);
    }
}
