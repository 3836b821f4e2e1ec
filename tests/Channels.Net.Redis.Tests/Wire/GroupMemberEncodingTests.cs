using System.Text;
using Channels.Net.Layers;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>
/// The group send's member, written from a body encoded once plus the members' name bytes, is byte for
/// byte the member <see cref="ChannelsRedisSerializer.Serialize(MessageMap, IReadOnlyList{string})"/> writes
/// (itself checked against Python's bytes by the wire vectors); the rented send members likewise.
/// </summary>
public sealed class GroupMemberEncodingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1000)]
    [InlineData(70000)]
    public void Body_plus_name_list_is_the_group_payload(int names)
    {
        var random = new Random(names);
        for (var round = 0; round < 20; round++)
        {
            var message = RandomValues.Message(random);
            var channels = Enumerable.Range(0, names).Select(i => ChannelName(random, i)).ToArray();

            Assert.Equal(ToHex(MessageCodec.Encode(message, channels)), ToHex(GroupPayload(message, channels)));
        }
    }

    [Fact]
    public void Names_at_the_fixstr_and_str8_edges_get_Pythons_headers()
    {
        var message = Message("chat.message", ("text", "hi"));
        string[] channels = [new string('a', 31), new string('b', 32), new string('c', 99), "x"];

        Assert.Equal(ToHex(MessageCodec.Encode(message, channels)), ToHex(GroupPayload(message, channels)));
    }

    [Fact]
    public void A_group_body_of_a_message_holding_the_reserved_key_is_refused()
    {
        var message = Map(("type", "t"), (ChannelNames.ReservedMessageKey, "x"));
        using var buffer = new PooledBufferWriter();

        Assert.Throws<InvalidChannelMessageException>(() => MessageCodec.EncodeGroupBody(message, buffer));
    }

    [Fact]
    public void Plain_group_member_is_the_random_prefix_then_the_payload()
    {
        var message = Message("chat.message", ("text", "hello"));
        string[] channels = ["specific.abc!1", "specific.abc!2"];
        var serializer = new ChannelsRedisSerializer();
        using var body = new PooledBufferWriter();
        MessageCodec.EncodeGroupBody(message, body);

        var first = serializer.SerializeGroupMember(body.WrittenSpan, Utf8(channels));
        var second = serializer.SerializeGroupMember(body.WrittenSpan, Utf8(channels));

        var expected = serializer.Serialize(message, channels);
        Assert.Equal(expected.Length, first.Length);
        Assert.Equal(ToHex(expected.AsSpan(12)), ToHex(first.Span[12..]));
        Assert.NotEqual(ToHex(first.Span[..12]), ToHex(second.Span[..12]));
        first.Return();
        second.Return();
    }

    [Fact]
    public void Encrypted_group_member_decrypts_to_the_group_payload()
    {
        var cipher = FernetCipher.FromSymmetricEncryptionKeys(["secret"], TimeSpan.FromMinutes(2), TimeProvider.System);
        var serializer = new ChannelsRedisSerializer(cipher);
        var message = Message("chat.message", ("text", new string('x', 100)));
        var channels = Enumerable.Range(0, 1000).Select(i => $"bench.{new string('f', 32)}!{i:D32}").ToArray();
        using var body = new PooledBufferWriter();
        MessageCodec.EncodeGroupBody(message, body);

        var member = serializer.SerializeGroupMember(body.WrittenSpan, Utf8(channels));

        var decoded = serializer.Deserialize(member.Span);
        MessageValueAssert.Equal(message, decoded.Message);
        Assert.Equal(channels, Assert.IsType<string[]>(decoded.AsgiChannel));
        Assert.Equal(ToHex(MessageCodec.Encode(message, channels)), ToHex(cipher.Decrypt(member.Span[12..])));
        member.Return();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("specific.abc!def")]
    public void Rented_send_member_has_the_bytes_of_Serialize(string? asgiChannel)
    {
        var random = new Random(7);
        var serializer = new ChannelsRedisSerializer();
        for (var round = 0; round < 50; round++)
        {
            var message = RandomValues.Message(random);

            var rented = serializer.SerializeRented(message, asgiChannel);

            var expected = asgiChannel is null ? serializer.Serialize(message) : serializer.Serialize(message, asgiChannel);
            Assert.Equal(ToHex(expected.AsSpan(12)), ToHex(rented.Span[12..]));
            rented.Return();
        }
    }

    [Fact]
    public void Rented_encrypted_send_member_decrypts_to_the_message()
    {
        var cipher = FernetCipher.FromSymmetricEncryptionKeys(["secret"], TimeSpan.FromMinutes(2), TimeProvider.System);
        var serializer = new ChannelsRedisSerializer(cipher);
        var message = Message("big", ("payload", new ReadOnlyMemory<byte>(new byte[1_200_000])));

        var rented = serializer.SerializeRented(message, "specific.abc!def");

        var decoded = serializer.Deserialize(rented.Span);
        MessageValueAssert.Equal(message, decoded.Message);
        Assert.Equal("specific.abc!def", decoded.AsgiChannel);
        rented.Return();
    }

    private static byte[] GroupPayload(MessageMap message, string[] channels)
    {
        using var buffer = new PooledBufferWriter();
        MessageCodec.EncodeGroupBody(message, buffer);
        MessageCodec.EncodeAsgiChannelList(Utf8(channels), buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static ReadOnlyMemory<byte>[] Utf8(string[] channels) =>
        [.. channels.Select(static c => new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(c)))];

    private static string ChannelName(Random random, int i)
    {
        const string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
        var length = random.Next(1, 60);
        var name = new StringBuilder(length + 8);
        for (var k = 0; k < length; k++)
        {
            name.Append(chars[random.Next(chars.Length)]);
        }

        return random.Next(2) == 0 ? $"{name}!{i}" : name.ToString();
    }
}
