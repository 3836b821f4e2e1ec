using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>The sorted-set member framing: 12 random bytes, then MessagePack, Fernet-encrypted when keys are set.</summary>
public sealed class ChannelsRedisSerializerTests
{
    private static readonly Channels.Net.Layers.ChannelMessage Hello = Message("chat.message", ("message", "hello"));

    [Fact]
    public void Serialize_IsTwelveRandomBytesThenThePayload()
    {
        var serializer = new ChannelsRedisSerializer();

        var first = serializer.Serialize(Hello);
        var second = serializer.Serialize(Hello);

        var payload = MessageCodec.Encode(Hello);
        Assert.Equal(12 + payload.Length, first.Length);
        Assert.Equal(ToHex(payload), ToHex(first.AsSpan(12)));
        Assert.Equal(ToHex(payload), ToHex(second.AsSpan(12)));
        Assert.NotEqual(ToHex(first.AsSpan(0, 12)), ToHex(second.AsSpan(0, 12)));
    }

    [Fact]
    public void Deserialize_SkipsThePrefixUnread()
    {
        var payload = MessageCodec.Encode(Hello, "specific.a!b");
        var member = new byte[12 + payload.Length];
        member.AsSpan(0, 12).Fill(0xff);
        payload.CopyTo(member, 12);

        var decoded = new ChannelsRedisSerializer().Deserialize(member);

        MessageValueAssert.Equal(Hello, decoded.Message);
        Assert.Equal("specific.a!b", decoded.AsgiChannel);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void Deserialize_MemberShorterThanThePrefix_IsRefused(int length)
    {
        var error = Assert.Throws<WireFormatException>(() => new ChannelsRedisSerializer().Deserialize(new byte[length]));

        Assert.Contains("12 random bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_JustThePrefix_IsAnEmptyPayload()
    {
        var error = Assert.Throws<WireFormatException>(() => new ChannelsRedisSerializer().Deserialize(new byte[12]));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithFernet_ThePayloadIsAToken_AndRoundTrips()
    {
        var serializer = new ChannelsRedisSerializer(FernetCipher.FromSymmetricEncryptionKeys(["k1", "k0"], TimeSpan.FromSeconds(70)));

        var member = serializer.Serialize(Hello, ["specific.a!b", "specific.a!c"]);
        var decoded = serializer.Deserialize(member);

        Assert.StartsWith("gAAAAA", System.Text.Encoding.ASCII.GetString(member, 12, 6), StringComparison.Ordinal);
        MessageValueAssert.Equal(Hello, decoded.Message);
        Assert.Equal(["specific.a!b", "specific.a!c"], decoded.TargetChannels);
    }

    [Fact]
    public void WithFernet_AMemberFromAnotherKey_IsRefusedWithFingerprints()
    {
        var writer = new ChannelsRedisSerializer(FernetCipher.FromSymmetricEncryptionKeys(["theirs"]));
        var reader = new ChannelsRedisSerializer(FernetCipher.FromSymmetricEncryptionKeys(["ours"]));

        var error = Assert.Throws<InvalidTokenException>(() => reader.Deserialize(writer.Serialize(Hello)));

        Assert.Equal(InvalidTokenReason.SignatureMismatch, error.Reason);
        Assert.Equal([FernetKey.FromSymmetricEncryptionKey("ours").Fingerprint], error.KeyFingerprints);
    }

    [Fact]
    public void WithoutFernet_AnEncryptedMember_IsAWireFormatError()
    {
        var member = new ChannelsRedisSerializer(FernetCipher.FromSymmetricEncryptionKeys(["k"])).Serialize(Hello);

        Assert.Throws<WireFormatException>(() => new ChannelsRedisSerializer().Deserialize(member));
    }

    [Fact]
    public void LargeMessage_RoundTripsThroughFernet()
    {
        var serializer = new ChannelsRedisSerializer(FernetCipher.FromSymmetricEncryptionKeys(["k"]));
        var message = Message("big", ("blob", new ReadOnlyMemory<byte>(RandomValues.RandomBytes(new Random(1), 1_100_000))));

        var decoded = serializer.Deserialize(serializer.Serialize(message));

        MessageValueAssert.Equal(message, decoded.Message);
    }
}
