using System.Buffers;
using System.Security.Cryptography;
using Channels.Net.Layers;
using Channels.Net.Redis.Crypto;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// channels_redis's sorted-set member format (<c>RedisChannelLayer.serialize</c> /
/// <c>deserialize</c>): 12 random bytes, then the MessagePack payload, Fernet-encrypted when the
/// layer has keys.
/// </summary>
/// <remarks>
/// The random prefix only makes equal messages distinct members of the sorted set (Python draws
/// it with <c>random.getrandbits(96)</c>); readers skip it unread. The pub/sub layer sends bare
/// MessagePack with neither prefix nor encryption, so it uses <see cref="MessageCodec"/> directly.
/// </remarks>
internal sealed class ChannelsRedisSerializer
{
    /// <summary>How many random bytes precede the payload.</summary>
    public const int RandomPrefixLength = 12;

    /// <summary>Creates a serializer; <paramref name="cipher"/> encrypts payloads when given.</summary>
    public ChannelsRedisSerializer(ISymmetricCipher? cipher = null)
    {
        Cipher = cipher;
    }

    /// <summary>The cipher that encrypts payloads, or null for plain MessagePack.</summary>
    public ISymmetricCipher? Cipher { get; }

    /// <summary>The member for a send to a plain channel.</summary>
    public byte[] Serialize(MessageMap message) => SerializeCore(message, null);

    /// <summary>The member for a send to the process-local channel <paramref name="asgiChannel"/>.</summary>
    public byte[] Serialize(MessageMap message, string asgiChannel)
    {
        ArgumentNullException.ThrowIfNull(asgiChannel);
        return SerializeCore(message, asgiChannel);
    }

    /// <summary>The member for a group send to the channels <paramref name="asgiChannels"/> that share one Redis key.</summary>
    public byte[] Serialize(MessageMap message, IReadOnlyList<string> asgiChannels)
    {
        ArgumentNullException.ThrowIfNull(asgiChannels);
        return SerializeCore(message, asgiChannels);
    }

    /// <summary>
    /// The member for a send, in a rented array: to a plain channel when <paramref name="asgiChannel"/>
    /// is null, else to that process-local channel. The bytes are those of <see cref="Serialize(MessageMap)"/>
    /// and <see cref="Serialize(MessageMap, string)"/>.
    /// </summary>
    public RentedBytes SerializeRented(MessageMap message, string? asgiChannel)
    {
        if (Cipher is not null)
        {
            using var plaintext = new PooledBufferWriter();
            Encode(message, asgiChannel, plaintext);
            return Seal(plaintext.WrittenSpan);
        }

        var buffer = new PooledBufferWriter();
        try
        {
            WriteRandomPrefix(buffer);
            Encode(message, asgiChannel, buffer);
            return buffer.Detach();
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The member of a group send for the channels <paramref name="asgiChannels"/> (UTF-8 names) that share one
    /// Redis key, in a rented array: <paramref name="body"/> is the message as <see cref="MessageCodec.EncodeGroupBody"/>
    /// wrote it once for every key. The bytes are those of <see cref="Serialize(MessageMap, IReadOnlyList{string})"/>.
    /// </summary>
    public RentedBytes SerializeGroupMember(ReadOnlySpan<byte> body, IReadOnlyList<ReadOnlyMemory<byte>> asgiChannels)
    {
        var estimate = RandomPrefixLength + body.Length + 32 + (asgiChannels.Count * 80);
        if (Cipher is not null)
        {
            using var plaintext = new PooledBufferWriter(estimate);
            Append(plaintext, body);
            MessageCodec.EncodeAsgiChannelList(asgiChannels, plaintext);
            return Seal(plaintext.WrittenSpan);
        }

        var buffer = new PooledBufferWriter(estimate);
        try
        {
            WriteRandomPrefix(buffer);
            Append(buffer, body);
            MessageCodec.EncodeAsgiChannelList(asgiChannels, buffer);
            return buffer.Detach();
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Reads a member: skips the random prefix, decrypts, decodes.</summary>
    /// <exception cref="WireFormatException">The member is shorter than the prefix, or its payload is not a message.</exception>
    /// <exception cref="InvalidTokenException">The payload does not decrypt with the cipher's keys.</exception>
    public DecodedMessage Deserialize(ReadOnlySpan<byte> member) => Deserialize(member, null);

    /// <summary><see cref="Deserialize(ReadOnlySpan{byte})"/>, looking the <c>__asgi_channel__</c> names up in <paramref name="channelNames"/> first.</summary>
    public DecodedMessage Deserialize(ReadOnlySpan<byte> member, Utf8NameLookup? channelNames)
    {
        var payload = Payload(member);
        if (Cipher is null)
        {
            return MessageCodec.Decode(payload, channelNames);
        }

        var plaintext = ArrayPool<byte>.Shared.Rent(Math.Max(1, Cipher.GetMaxPlaintextLength(payload.Length)));
        var written = 0;
        try
        {
            written = Cipher.Decrypt(payload, plaintext);
            return MessageCodec.Decode(plaintext.AsSpan(0, written), channelNames);
        }
        finally
        {
            plaintext.AsSpan(0, written).Clear();
            ArrayPool<byte>.Shared.Return(plaintext);
        }
    }

    /// <summary>The payload of a member: everything after the random prefix.</summary>
    /// <exception cref="WireFormatException">The member is shorter than the prefix.</exception>
    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> member)
    {
        if (member.Length < RandomPrefixLength)
        {
            throw new WireFormatException(
                $"A channels_redis member starts with {RandomPrefixLength} random bytes, but this one holds only {member.Length} bytes.");
        }

        return member[RandomPrefixLength..];
    }

    private static void Encode(MessageMap message, string? asgiChannel, PooledBufferWriter output)
    {
        if (asgiChannel is null)
        {
            MessageCodec.Encode(message, output);
        }
        else
        {
            MessageCodec.Encode(message, asgiChannel, output);
        }
    }

    private static void WriteRandomPrefix(PooledBufferWriter output)
    {
        RandomNumberGenerator.Fill(output.GetSpan(RandomPrefixLength)[..RandomPrefixLength]);
        output.Advance(RandomPrefixLength);
    }

    private static void Append(PooledBufferWriter output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    /// <summary>The random prefix, then <paramref name="payload"/> encrypted, in a rented array.</summary>
    private RentedBytes Seal(ReadOnlySpan<byte> payload)
    {
        var length = RandomPrefixLength + Cipher!.GetCiphertextLength(payload.Length);
        var member = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            RandomNumberGenerator.Fill(member.AsSpan(0, RandomPrefixLength));
            var written = Cipher.Encrypt(payload, member.AsSpan(RandomPrefixLength, length - RandomPrefixLength));
            return new RentedBytes(member, RandomPrefixLength + written);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(member);
            throw;
        }
    }

    private byte[] SerializeCore(MessageMap message, object? asgiChannel)
    {
        using var buffer = new PooledBufferWriter();
        switch (asgiChannel)
        {
            case null:
                MessageCodec.Encode(message, buffer);
                break;
            case string channel:
                MessageCodec.Encode(message, channel, buffer);
                break;
            default:
                MessageCodec.Encode(message, (IReadOnlyList<string>)asgiChannel, buffer);
                break;
        }

        var payload = buffer.WrittenSpan;
        byte[] member;
        if (Cipher is null)
        {
            member = new byte[RandomPrefixLength + payload.Length];
            payload.CopyTo(member.AsSpan(RandomPrefixLength));
        }
        else
        {
            var length = Cipher.GetCiphertextLength(payload.Length);
            member = new byte[RandomPrefixLength + length];
            var written = Cipher.Encrypt(payload, member.AsSpan(RandomPrefixLength));
            if (written != length)
            {
                member = member[..(RandomPrefixLength + written)];
            }
        }

        RandomNumberGenerator.Fill(member.AsSpan(0, RandomPrefixLength));
        return member;
    }
}
