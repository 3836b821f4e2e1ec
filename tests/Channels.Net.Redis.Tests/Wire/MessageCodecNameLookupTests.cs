using System.Text;
using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>
/// Decoding with a lookup of known channel names (what the Redis layer's pump does for its own channels) gives what
/// decoding without one gives: the same message, the same names, the same refusals; a known name is the string the
/// lookup holds, so no new one is made.
/// </summary>
public sealed class MessageCodecNameLookupTests
{
    private static readonly string[] Known = [.. Enumerable.Range(0, 50).Select(i => $"specific.abc!{i:x8}")];

    private static readonly Utf8NameLookup Lookup = utf8 =>
    {
        var text = Encoding.UTF8.GetString(utf8);
        return Array.Find(Known, k => k == text);
    };

    [Fact]
    public void GroupMessage_KnownNamesAreTheLookupsStrings_OthersAreRead()
    {
        var names = Known.Concat(Enumerable.Range(0, 50).Select(i => $"specific.other!{i:x8}")).ToArray();
        var payload = MessageCodec.Encode(ChannelMessage.Create("chat.message", [new("message", "hi")]), names);

        var plain = MessageCodec.Decode(payload);
        var looked = MessageCodec.Decode(payload, Lookup);

        MessageValueAssert.Equal(plain.Message, looked.Message);
        Assert.Equal(names, looked.TargetChannels);
        for (var i = 0; i < Known.Length; i++)
        {
            Assert.Same(Known[i], looked.TargetChannels[i]);
        }
    }

    [Fact]
    public void SingleChannel_KnownNameIsTheLookupsString()
    {
        var payload = MessageCodec.Encode(ChannelMessage.Create("x"), Known[3]);
        Assert.Same(Known[3], MessageCodec.Decode(payload, Lookup).AsgiChannel);
    }

    [Theory]
    [InlineData("92a3616263c0")] // [ "abc", nil ]
    [InlineData("9201")] // [ 1 ]
    [InlineData("90")] // []
    [InlineData("c0")] // nil
    [InlineData("81a161a162")] // a map
    [InlineData("92a3616263a2c3a9")] // a name that is not ASCII
    [InlineData("92a3616263a2ff00")] // a name that is not UTF-8
    [InlineData("dc0003a161a162")] // an array16 that claims more items than follow
    public void OddAsgiChannelValues_DecodeOrFailExactlyAsWithoutTheLookup(string valueHex)
    {
        var payload = Convert.FromHexString("82a474797065a174" + "b05f5f617367695f6368616e6e656c5f5f" + valueHex);
        AssertSameOutcome(payload);
    }

    [Fact]
    public void RandomAsgiChannelValues_DecodeOrFailExactlyAsWithoutTheLookup()
    {
        byte[] interesting = [0x90, 0x91, 0x92, 0x93, 0x9f, 0xdc, 0xdd, 0xa0, 0xa1, 0xa3, 0xd9, 0xda, 0xdb, 0xc0, 0x01, 0x61, 0x62, 0x21, 0x80, 0x81, 0xc4, 0xff];
        var random = new Random(20261207);
        for (var i = 0; i < 20_000; i++)
        {
            var value = new byte[random.Next(1, 24)];
            for (var j = 0; j < value.Length; j++)
            {
                value[j] = random.Next(4) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            }

            var payload = Convert.FromHexString("82a474797065a174" + "b05f5f617367695f6368616e6e656c5f5f" + Convert.ToHexString(value));
            AssertSameOutcome(payload);
        }
    }

    private static void AssertSameOutcome(byte[] payload)
    {
        DecodedMessage? plain = null;
        DecodedMessage? looked = null;
        Exception? plainError = null;
        Exception? lookedError = null;
        try
        {
            plain = MessageCodec.Decode(payload);
        }
        catch (Exception ex)
        {
            plainError = ex;
        }

        try
        {
            looked = MessageCodec.Decode(payload, static utf8 => utf8.SequenceEqual("abc"u8) ? "abc" : null);
        }
        catch (Exception ex)
        {
            lookedError = ex;
        }

        Assert.Equal(plainError?.GetType(), lookedError?.GetType());
        Assert.Equal(plainError?.Message, lookedError?.Message);
        if (plain is { } p)
        {
            var l = looked!.Value;
            MessageValueAssert.Equal(p.Message, l.Message);
            Assert.Equal(p.TargetChannels, l.TargetChannels);
        }
    }
}
