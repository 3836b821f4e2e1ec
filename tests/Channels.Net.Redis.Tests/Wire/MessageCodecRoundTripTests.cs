using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>Every value kind and size boundary survives encode then decode, type for type and bit for bit.</summary>
public sealed class MessageCodecRoundTripTests
{
    public static TheoryData<string, object?> Values() => new()
    {
        { "null", null },
        { "true", true },
        { "false", false },
        { "zero", 0L },
        { "fixint max", 127L },
        { "uint8 min", 128L },
        { "uint8 max", 255L },
        { "uint16 min", 256L },
        { "uint16 max", 65535L },
        { "uint32 min", 65536L },
        { "uint32 max", 4294967295L },
        { "uint64 min", 4294967296L },
        { "long max", long.MaxValue },
        { "ulong min", (ulong)long.MaxValue + 1 },
        { "ulong max", ulong.MaxValue },
        { "-1", -1L },
        { "negative fixint min", -32L },
        { "int8 max", -33L },
        { "int8 min", -128L },
        { "int16 max", -129L },
        { "int16 min", -32768L },
        { "int32 max", -32769L },
        { "int32 min", (long)int.MinValue },
        { "int64 max", (long)int.MinValue - 1 },
        { "long min", long.MinValue },
        { "0.0", 0.0 },
        { "-0.0", -0.0 },
        { "pi", Math.PI },
        { "tiny", double.Epsilon },
        { "max", double.MaxValue },
        { "inf", double.PositiveInfinity },
        { "-inf", double.NegativeInfinity },
        { "python nan", BitConverter.Int64BitsToDouble(0x7ff8000000000000) },
        { "dotnet nan", double.NaN },
        { "nan payload", BitConverter.Int64BitsToDouble(0x7ff0000000000123) },
        { "empty string", "" },
        { "fixstr 31", new string('a', 31) },
        { "str8 32", new string('b', 32) },
        { "str8 255", new string('c', 255) },
        { "str16 256", new string('d', 256) },
        { "str16 65535", new string('e', 65535) },
        { "str32 65536", new string('f', 65536) },
        { "unicode", "naïve 你好 😀 \u0000 \uffff" },
        { "empty bytes", Bytes() },
        { "bin8 255", new ReadOnlyMemory<byte>(Enumerable.Range(0, 255).Select(i => (byte)i).ToArray()) },
        { "bin16 256", new ReadOnlyMemory<byte>(new byte[256]) },
        { "bin16 65535", new ReadOnlyMemory<byte>(new byte[65535]) },
        { "bin32 65536", new ReadOnlyMemory<byte>(new byte[65536]) },
        { "empty list", List() },
        { "fixarray 15", List(Enumerable.Range(0, 15).Select(i => (object?)(long)i).ToArray()) },
        { "array16 16", List(Enumerable.Range(0, 16).Select(i => (object?)(long)i).ToArray()) },
        { "array16 65535", List(new object?[65535]) },
        { "array32 65536", List(new object?[65536]) },
        { "empty map", MessageMap.Empty },
        { "fixmap 15", MessagePackEncodingTests.LargeMap(15) },
        { "map16 16", MessagePackEncodingTests.LargeMap(16) },
        { "map16 65535", MessagePackEncodingTests.LargeMap(65535) },
        { "map32 65536", MessagePackEncodingTests.LargeMap(65536) },
        { "mixed", List(null, true, 1L, ulong.MaxValue, 2.5, "s", Bytes(1, 2), List(), Map(("k", List(Map())))) },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Value_RoundTrips(string name, object? value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        MessageCodec.EncodeValue(value, buffer);

        var decoded = MessageCodec.DecodeValue(buffer.WrittenSpan);

        MessageValueAssert.Equal(value, decoded, name);
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void Value_InAMessage_RoundTrips_WithEachAsgiChannelForm(string name, object? value)
    {
        var message = Message("test.value", ("value", value), ("after", "end"));

        var plain = MessageCodec.Decode(MessageCodec.Encode(message));
        var single = MessageCodec.Decode(MessageCodec.Encode(message, "specific.abc!def"));
        var group = MessageCodec.Decode(MessageCodec.Encode(message, ["specific.abc!d1", "specific.abc!d2"]));

        foreach (var decoded in new[] { plain, single, group })
        {
            MessageValueAssert.Equal(message, decoded.Message, name);
            Assert.Equal("test.value", decoded.Message.Type);
        }

        Assert.Null(plain.AsgiChannel);
        Assert.Equal("specific.abc!def", single.AsgiChannel);
        Assert.Equal(["specific.abc!d1", "specific.abc!d2"], group.TargetChannels);
    }

    [Fact]
    public void DecodedUInt64ThatFitsALong_IsALong()
    {
        // Python never writes 5 as uint64, but another writer may; our model keeps ulong for values past long.MaxValue only.
        Assert.Equal(5L, Assert.IsType<long>(MessageCodec.DecodeValue(Hex("cf0000000000000005"))));
        Assert.Equal(-1L, Assert.IsType<long>(MessageCodec.DecodeValue(Hex("d3ffffffffffffffff"))));
        Assert.Equal(200L, Assert.IsType<long>(MessageCodec.DecodeValue(Hex("d100c8"))));
    }

    [Fact]
    public void LargeMessage_OverOneMegabyte_RoundTrips()
    {
        var message = Message("big", ("text", new string('x', 1_500_000)), ("blob", new ReadOnlyMemory<byte>(new byte[1_200_000])));

        var decoded = MessageCodec.Decode(MessageCodec.Encode(message));

        MessageValueAssert.Equal(message, decoded.Message);
    }

    [Fact]
    public void DecodedBytes_DoNotAliasTheInput()
    {
        var packed = MessageCodec.Encode(Message("t", ("b", Bytes(1, 2, 3)), ("s", "abc")));

        var decoded = MessageCodec.Decode(packed);
        Array.Clear(packed);

        Assert.Equal(new byte[] { 1, 2, 3 }, decoded.Message.GetBytes("b")!.Value.ToArray());
        Assert.Equal("abc", decoded.Message.GetString("s"));
    }
}
