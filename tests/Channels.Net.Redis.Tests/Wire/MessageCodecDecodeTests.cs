using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>What the decoder accepts beyond our own output, and what it refuses, clearly.</summary>
public sealed class MessageCodecDecodeTests
{
    // {"type": "t"} is 81 a4 74797065 a1 74.
    private const string TypeT = "a474797065a174";

    [Fact]
    public void Float32_IsReadAsADouble()
    {
        var decoded = MessageCodec.Decode(Hex("82" + TypeT + "a166" + "ca3fc00000"));

        Assert.Equal(1.5, Assert.IsType<double>(decoded.Message["f"]));
    }

    [Fact]
    public void NonMinimalEncodings_AreRead()
    {
        // str8 for a short string, map16 for a small map, array32, bin32, uint16 for 1.
        var decoded = MessageCodec.Decode(Hex("de0002" + "d904" + "74797065" + "a174" + "a16c" + "dd00000002" + "cd0001" + "c600000001ff"));

        Assert.Equal("t", decoded.Message.Type);
        var list = Assert.IsType<MessageList>(decoded.Message["l"]);
        Assert.Equal(1L, list[0]);
        Assert.Equal(new byte[] { 0xff }, ((ReadOnlyMemory<byte>)list[1]!).ToArray());
    }

    [Fact]
    public void BytesKey_IsReadAsUtf8Text()
    {
        // {b"type": "t", b"k\xc3\xa9": 1}, as Python packs a dict with bytes keys.
        var decoded = MessageCodec.Decode(Hex("82" + "c40474797065" + "a174" + "c4036bc3a9" + "01"));

        Assert.Equal("t", decoded.Message.Type);
        Assert.Equal(1L, decoded.Message["ké"]);
    }

    [Fact]
    public void IntegerKeys_AreReadAsDecimalText()
    {
        // {"type": "t", 1: "a", -5: "b", 2**64-1: "c", 300: "d"}
        var decoded = MessageCodec.Decode(Hex("85" + TypeT + "01a161" + "fba162" + "cfffffffffffffffffa163" + "cd012ca164"));

        Assert.Equal(["type", "1", "-5", "18446744073709551615", "300"], decoded.Message.Keys);
    }

    [Theory]
    [InlineData("c0", "nil")]
    [InlineData("c3", "bool")]
    [InlineData("cb3ff8000000000000", "float")]
    [InlineData("90", "list")]
    [InlineData("80", "map")]
    [InlineData("d40001", "ext")]
    public void OtherKeyKinds_AreRefused(string keyHex, string kind)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("82" + TypeT + keyHex + "01")));

        Assert.Contains("key", error.Message, StringComparison.Ordinal);
        Assert.True(error.Offset > 0, kind);
    }

    [Theory]
    [InlineData("82" + TypeT + "a474797065a175", "twice")] // {"type": "t", "type": "u"}
    [InlineData("83" + TypeT + "01a161a131a162", "twice")] // {"type": "t", 1: "a", "1": "b"}
    [InlineData("83" + TypeT + "c40161" + "01" + "a161" + "02", "twice")] // {b"a": 1, "a": 2}
    public void KeysThatCollide_AreRefused(string hex, string expected)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CollidingKeys_InABigMap_AreRefused()
    {
        // A map16 of 20 keys (past the linear check) whose last key repeats the first.
        var hex = "de0014" + TypeT + string.Concat(Enumerable.Range(0, 18).Select(i => "a2" + Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(i.ToString("d2"))) + "c0")) + "a474797065a175";

        Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));
    }

    [Theory]
    [InlineData("c40161", "bytes map key")] // b"a" is fine ...
    [InlineData("c401ff", "bytes map key")] // ... b"\xff" is not UTF-8
    public void BytesKey_ThatIsNotUtf8_IsRefused(string keyHex, string expected)
    {
        if (keyHex == "c40161")
        {
            Assert.Equal(1L, MessageCodec.Decode(Hex("82" + TypeT + keyHex + "01")).Message["a"]);
            return;
        }

        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("82" + TypeT + keyHex + "01")));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a2fffe")] // invalid bytes
    [InlineData("a3eda080")] // an encoded surrogate, which Python's strict UTF-8 refuses
    [InlineData("a2c0af")] // overlong
    public void StringThatIsNotUtf8_IsRefused(string valueHex)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("82" + TypeT + "a173" + valueHex)));

        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("d40501", "ext type 5")]
    [InlineData("d6ff00000001", "Timestamp")]
    [InlineData("c70105ff", "ext type 5")]
    [InlineData("c8000105ff", "ext type 5")]
    [InlineData("c900000001 05ff", "ext type 5")]
    [InlineData("d8", "ext")]
    public void ExtValues_AreRefused(string valueHex, string expected)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("82" + TypeT + "a165" + valueHex)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NeverUsedByte_IsRefused()
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("82" + TypeT + "a161c1")));

        Assert.Contains("0xc1", error.Message, StringComparison.Ordinal);
        Assert.Equal(10, error.Offset);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("92a474797065a174", "list")] // ["type", "t"]
    [InlineData("a474797065", "string")]
    [InlineData("01", "integer")]
    [InlineData("c0", "nil")]
    public void TopLevelThatIsNotAMap_IsRefused(string hex, string expected)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("80", "no 'type'")]
    [InlineData("81a16101", "no 'type'")]
    [InlineData("81a47479706501", "integer")]
    [InlineData("81a474797065c40174", "bytes")]
    [InlineData("81a474797065c0", "null")]
    public void MapWithoutAStringType_IsRefused(string hex, string expected)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("01")]
    [InlineData("c0")]
    [InlineData("9101")]
    [InlineData("91c0")]
    [InlineData("80")]
    public void AsgiChannel_ThatIsNeitherANameNorAListOfNames_IsRefused(string valueHex)
    {
        var hex = "82" + TypeT + "b05f5f617367695f6368616e6e656c5f5f" + valueHex;

        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));

        Assert.Contains(ChannelNames.ReservedMessageKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AsgiChannel_AnywhereInTheMap_IsTakenOut()
    {
        // Python always writes it last, but a map is a map.
        var hex = "83" + "b05f5f617367695f6368616e6e656c5f5f" + "a3612162" + TypeT + "a16101";

        var decoded = MessageCodec.Decode(Hex(hex));

        Assert.Equal("a!b", decoded.AsgiChannel);
        Assert.Equal(["type", "a"], decoded.Message.Keys);
    }

    [Fact]
    public void AsgiChannel_InANestedMap_IsJustAKey()
    {
        var decoded = MessageCodec.Decode(MessageCodec.Encode(Message("t", ("inner", Map((ChannelNames.ReservedMessageKey, "x"))))));

        Assert.Null(decoded.AsgiChannel);
        Assert.Equal("x", ((MessageMap)decoded.Message["inner"]!)[ChannelNames.ReservedMessageKey]);
    }

    [Fact]
    public void TrailingBytes_AreRefused()
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("81" + TypeT + "00")));

        Assert.Contains("ExtraData", error.Message, StringComparison.Ordinal);
        Assert.Equal(8, error.Offset);
    }

    [Fact]
    public void Nesting_AtTheLimit_IsRead_OneDeeper_IsRefused()
    {
        // The message map is level 1; MaxDepth - 1 fixarrays inside it reach the limit exactly.
        var atLimit = "82" + TypeT + "a176" + string.Concat(Enumerable.Repeat("91", MessageCodec.MaxDepth - 1)) + "01";
        var tooDeep = "82" + TypeT + "a176" + string.Concat(Enumerable.Repeat("91", MessageCodec.MaxDepth)) + "01";

        MessageCodec.Decode(Hex(atLimit));
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(tooDeep)));
        Assert.Contains("levels deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VeryDeepNesting_IsRefusedWithoutExhaustingTheStack()
    {
        var bytes = new byte[1_000_000];
        bytes.AsSpan().Fill(0x91);
        bytes[0] = 0x81;

        Assert.Throws<WireFormatException>(() => MessageCodec.Decode(bytes));
        Assert.Throws<WireFormatException>(() => MessageCodec.DecodeValue(bytes.AsSpan(1)));
    }

    [Theory]
    [InlineData("dfffffffff")] // map32 of 4 billion entries, nothing after
    [InlineData("81a474797065ddffffffff")] // array32 of 4 billion items
    [InlineData("81a474797065dbffffffff61")] // str32 of 4 GB
    [InlineData("81a474797065c6ffffffff61")] // bin32 of 4 GB
    [InlineData("81a474797065de7fff")] // map16 of 32767 entries
    public void HugeClaimedLengths_FailFastAsTruncated(string hex)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncation_ReportsWhereTheItemStarted()
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex("82" + TypeT + "a161cd01")));

        Assert.Equal(10, error.Offset);
        Assert.Contains("at byte 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorsDoNotEchoHugeKeys()
    {
        var longKey = new string('k', 10_000);
        var keyHex = "da2710" + Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(longKey));
        var hex = "83" + TypeT + keyHex + "01" + keyHex + "02";

        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(Hex(hex)));

        Assert.True(error.Message.Length < 500, error.Message.Length.ToString());
    }
}
