using System.Buffers;
using Channels.Net.Layers;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>Exact bytes for every format choice, as msgpack-python (use_bin_type=True) makes them.</summary>
public sealed class MessagePackEncodingTests
{
    private static string Encoded(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        MessageCodec.EncodeValue(value, buffer);
        return ToHex(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData(0L, "00")]
    [InlineData(1L, "01")]
    [InlineData(127L, "7f")]
    [InlineData(128L, "cc80")]
    [InlineData(255L, "ccff")]
    [InlineData(256L, "cd0100")]
    [InlineData(65535L, "cdffff")]
    [InlineData(65536L, "ce00010000")]
    [InlineData(4294967295L, "ceffffffff")]
    [InlineData(4294967296L, "cf0000000100000000")]
    [InlineData(long.MaxValue, "cf7fffffffffffffff")]
    [InlineData(-1L, "ff")]
    [InlineData(-32L, "e0")]
    [InlineData(-33L, "d0df")]
    [InlineData(-128L, "d080")]
    [InlineData(-129L, "d1ff7f")]
    [InlineData(-32768L, "d18000")]
    [InlineData(-32769L, "d2ffff7fff")]
    [InlineData(-2147483648L, "d280000000")]
    [InlineData(-2147483649L, "d3ffffffff7fffffff")]
    [InlineData(long.MinValue, "d38000000000000000")]
    public void Integers_UseTheSmallestEncodingInPythonsOrder(long value, string hex) => Assert.Equal(hex, Encoded(value));

    [Theory]
    [InlineData(9223372036854775808UL, "cf8000000000000000")]
    [InlineData(ulong.MaxValue, "cfffffffffffffffff")]
    public void UnsignedPastLongMax_IsUInt64(ulong value, string hex) => Assert.Equal(hex, Encoded(value));

    [Theory]
    [InlineData(0.0, "cb0000000000000000")]
    [InlineData(-0.0, "cb8000000000000000")]
    [InlineData(1.5, "cb3ff8000000000000")]
    [InlineData(1.0, "cb3ff0000000000000")]
    [InlineData(double.PositiveInfinity, "cb7ff0000000000000")]
    [InlineData(double.NegativeInfinity, "cbfff0000000000000")]
    [InlineData(double.Epsilon, "cb0000000000000001")]
    public void Floats_AreAlwaysFloat64(double value, string hex) => Assert.Equal(hex, Encoded(value));

    [Fact]
    public void NaN_KeepsItsBits()
    {
        // Python's float("nan") is 7ff8...; .NET's double.NaN has the sign bit set. Both are NaN to both sides.
        Assert.Equal("cb7ff8000000000000", Encoded(BitConverter.Int64BitsToDouble(0x7ff8000000000000)));
        Assert.Equal("cb" + BitConverter.DoubleToInt64Bits(double.NaN).ToString("x16"), Encoded(double.NaN));
    }

    [Fact]
    public void NilAndBooleans()
    {
        Assert.Equal("c0", Encoded(null));
        Assert.Equal("c3", Encoded(true));
        Assert.Equal("c2", Encoded(false));
    }

    [Theory]
    [InlineData(0, "a0")]
    [InlineData(31, "bf")]
    [InlineData(32, "d920")]
    [InlineData(255, "d9ff")]
    [InlineData(256, "da0100")]
    [InlineData(65535, "daffff")]
    [InlineData(65536, "db00010000")]
    public void Strings_FixstrStr8Str16Str32(int length, string header)
    {
        var text = new string('s', length);

        var hex = Encoded(text);

        Assert.Equal(header, hex[..header.Length]);
        Assert.Equal((header.Length / 2) + length, hex.Length / 2);
    }

    [Theory]
    [InlineData(10, "be")] // 10 x 3-byte '€' = 30 bytes
    [InlineData(11, "d921")] // 33 bytes: str8 although only 11 characters
    [InlineData(85, "d9ff")] // 255 bytes
    [InlineData(86, "da0102")] // 258 bytes
    public void Strings_HeaderCountsUtf8BytesNotCharacters(int euros, string header)
    {
        var hex = Encoded(new string('€', euros));

        Assert.StartsWith(header, hex, StringComparison.Ordinal);
        Assert.EndsWith("e282ac", hex, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_SurrogatePairsAreFourBytes() => Assert.Equal("a4f09f9880", Encoded("😀"));

    [Theory]
    [InlineData("", 0xd800)]
    [InlineData("abc", 0xdc00)]
    [InlineData("a long string with a lone surrogate at the end ", 0xd83d)]
    public void Strings_LoneSurrogate_IsRefusedAsPythonRefusesIt(string prefix, int surrogate)
    {
        // Built here: xunit would turn a lone surrogate in InlineData into U+FFFD on the way.
        var text = prefix + (char)surrogate;
        var error = Assert.Throws<InvalidChannelMessageException>(() => Encoded(text));
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "c400")]
    [InlineData(255, "c4ff")]
    [InlineData(256, "c50100")]
    [InlineData(65535, "c5ffff")]
    [InlineData(65536, "c600010000")]
    public void Bytes_Bin8Bin16Bin32(int length, string header)
    {
        var hex = Encoded(new ReadOnlyMemory<byte>(new byte[length]));

        Assert.Equal(header, hex[..header.Length]);
        Assert.Equal((header.Length / 2) + length, hex.Length / 2);
    }

    [Theory]
    [InlineData(0, "90")]
    [InlineData(15, "9f")]
    [InlineData(16, "dc0010")]
    [InlineData(65535, "dcffff")]
    [InlineData(65536, "dd00010000")]
    public void Lists_FixarrayArray16Array32(int count, string header)
    {
        var hex = Encoded(List(Enumerable.Repeat<object?>(null, count).ToArray()));

        Assert.Equal(header, hex[..header.Length]);
        Assert.Equal(header + string.Concat(Enumerable.Repeat("c0", count)), hex);
    }

    [Theory]
    [InlineData(0, "80")]
    [InlineData(15, "8f")]
    [InlineData(16, "de0010")]
    [InlineData(65535, "deffff")]
    [InlineData(65536, "df00010000")]
    public void Maps_FixmapMap16Map32(int count, string header)
    {
        var map = LargeMap(count);

        var hex = Encoded(map);

        Assert.Equal(header, hex[..header.Length]);
        Assert.Equal((header.Length / 2) + (count * 7), hex.Length / 2);
    }

    [Fact]
    public void Map_KeepsKeyOrder()
    {
        Assert.Equal("83a17a01a16102a16d03", Encoded(Map(("z", 1), ("a", 2), ("m", 3))));
    }

    [Fact]
    public void AsgiChannel_String_IsAppendedAsTheLastKey()
    {
        var bytes = MessageCodec.Encode(Message("t", ("a", 1)), "specific.x!y");

        Assert.Equal("83a474797065a174a16101b05f5f617367695f6368616e6e656c5f5fac73706563696669632e782179", ToHex(bytes));
    }

    [Fact]
    public void AsgiChannel_WhenTheMapAlreadyHasOne_IsRefused()
    {
        var map = Map(("type", "t"), (ChannelNames.ReservedMessageKey, "x"));

        Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Encode(map, "specific.x!y"));
        Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Encode(map, ["specific.x!y"]));
    }

    [Fact]
    public void Nesting_UpToTheLimitIsWritten_DeeperIsRefused()
    {
        // The message map is level 1, so MaxDepth - 1 lists inside it reach the limit exactly.
        var deepest = Message("t", ("v", NestedLists(MessageCodec.MaxDepth - 1, 1L)));
        var tooDeep = Message("t", ("v", NestedLists(MessageCodec.MaxDepth, 1L)));

        var bytes = MessageCodec.Encode(deepest);

        MessageValueAssertRoundTrip(deepest, bytes);
        Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Encode(tooDeep));
    }

    [Fact]
    public void WritesIntoAnyBufferWriter_InSmallPieces()
    {
        var message = Message("t", ("s", new string('x', 5000)), ("b", new ReadOnlyMemory<byte>(new byte[3000])), ("n", List(1, 2, 3)));
        var expected = MessageCodec.Encode(message);
        var tiny = new ArrayBufferWriter<byte>(1);

        MessageCodec.Encode(message, tiny);

        Assert.Equal(ToHex(expected), ToHex(tiny.WrittenSpan));
    }

    /// <summary>
    /// A map of <paramref name="count"/> keys "00000", "00001", ... (5 hex digits) holding nil, made by our decoder:
    /// MessageMap.Create checks keys pairwise, which takes minutes for 65536 keys.
    /// </summary>
    internal static MessageMap LargeMap(int count)
    {
        var bytes = new List<byte> { 0xdf, (byte)(count >> 24), (byte)(count >> 16), (byte)(count >> 8), (byte)count };
        for (var i = 0; i < count; i++)
        {
            bytes.Add(0xa5);
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(i.ToString("x5")));
            bytes.Add(0xc0);
        }

        return Assert.IsAssignableFrom<MessageMap>(MessageCodec.DecodeValue(bytes.ToArray()));
    }

    private static void MessageValueAssertRoundTrip(ChannelMessage message, byte[] bytes) =>
        Support.MessageValueAssert.Equal(message, MessageCodec.Decode(bytes).Message);
}
