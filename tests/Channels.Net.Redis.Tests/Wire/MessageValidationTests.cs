using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>
/// <see cref="MessageCodec.Validate"/> refuses exactly what encoding refuses, with the same exception and
/// text: a message delivered in-process must fail where its trip through Redis would have.
/// </summary>
public sealed class MessageValidationTests
{
    public static TheoryData<string, ChannelMessage> Refused()
    {
        var lone = "ab\uD800cd";
        return new TheoryData<string, ChannelMessage>
        {
            { "lone high surrogate in a value", Message("t", ("text", lone)) },
            { "lone low surrogate at the end", Message("t", ("text", "x\uDC00")) },
            { "reversed pair", Message("t", ("text", "\uDC00\uD800")) },
            { "lone surrogate in a key", Message("t", ("k" + "\uD801", 1L)) },
            { "lone surrogate in the type", ChannelMessage.Create("t\uD800") },
            { "lone surrogate in a nested map key", Message("t", ("m", Map(("\uDFFF", 1L)))) },
            { "lone surrogate in a list", Message("t", ("l", List(1L, List("ok", lone)))) },
            { "too deep", Message("t", ("deep", NestedLists(MessageCodec.MaxDepth, null))) },
        };
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Validate_refuses_what_Encode_refuses(string why, ChannelMessage message)
    {
        var encoded = Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Encode(message, "specific.a!b"));
        var validated = Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Validate(message, withAsgiChannel: true));

        Assert.Equal(encoded.Message, validated.Message);
        Assert.NotEmpty(why);
    }

    [Fact]
    public void The_reserved_key_is_refused_only_with_a_target_channel()
    {
        var message = Map(("type", "t"), (ChannelNames.ReservedMessageKey, "x"));

        var encoded = Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Encode(message, "specific.a!b"));
        var validated = Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.Validate(message, withAsgiChannel: true));
        Assert.Equal(encoded.Message, validated.Message);

        MessageCodec.Validate(message, withAsgiChannel: false);
        Assert.NotEmpty(MessageCodec.Encode(message));
    }

    [Fact]
    public void Validate_accepts_what_Encode_accepts()
    {
        var random = new Random(2026);
        for (var i = 0; i < 2000; i++)
        {
            var message = RandomValues.Message(random, maxDepth: 5);
            Assert.NotEmpty(MessageCodec.Encode(message, "specific.a!b"));

            MessageCodec.Validate(message, withAsgiChannel: true);
        }
    }

    [Fact]
    public void Surrogate_pairs_and_the_deepest_allowed_nesting_pass()
    {
        var message = Message("t", ("emoji", "a😀b😀"), ("deep", NestedLists(MessageCodec.MaxDepth - 1, "😀")));

        Assert.NotEmpty(MessageCodec.Encode(message, "specific.a!b"));
        MessageCodec.Validate(message, withAsgiChannel: true);
    }
}
