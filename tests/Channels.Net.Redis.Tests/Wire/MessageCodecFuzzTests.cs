using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>
/// Bounded, seeded fuzzing: whatever bytes arrive, decoding either yields a message or throws
/// <see cref="WireFormatException"/> (and a member read with a cipher may also throw
/// <see cref="InvalidTokenException"/>): never IndexOutOfRange, overflow, out-of-memory, or a hang.
/// </summary>
public sealed class MessageCodecFuzzTests
{
    private const int Seed = 20261125;

    /// <summary>Bytes that start MessagePack items, so random input reaches deep into the decoder.</summary>
    private static readonly byte[] Interesting =
    [
        0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa1, 0xa4, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
        0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5,
        0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 0x74, 0x79, 0x70, 0x65, 0xed, 0xf0,
    ];

    [Fact]
    public void RandomBytes_DecodeOrThrowWireFormatException()
    {
        var random = new Random(Seed);
        for (var i = 0; i < 20_000; i++)
        {
            AssertDecodesOrRefuses(RandomValues.RandomBytes(random, random.Next(0, 48)));
        }
    }

    [Fact]
    public void RandomItemBytes_DecodeOrThrowWireFormatException()
    {
        var random = new Random(Seed + 1);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(1, 64)];
            for (var j = 0; j < bytes.Length; j++)
            {
                bytes[j] = random.Next(3) == 0 ? (byte)random.Next(256) : Interesting[random.Next(Interesting.Length)];
            }

            if (random.Next(2) == 0)
            {
                // Start like a message: {"type": ...
                bytes[0] = (byte)(0x80 | random.Next(1, 4));
            }

            AssertDecodesOrRefuses(bytes);
        }
    }

    [Fact]
    public void EveryTruncationOfValidPayloads_IsRefused()
    {
        foreach (var payload in Corpus())
        {
            for (var length = 0; length < payload.Length; length++)
            {
                var prefix = payload.AsSpan(0, length).ToArray();
                try
                {
                    MessageCodec.Decode(prefix);
                    Assert.Fail($"A truncation to {length} of {payload.Length} bytes decoded: {Convert.ToHexString(payload)}");
                }
                catch (WireFormatException)
                {
                }
                catch (Exception ex)
                {
                    Assert.Fail($"{ex.GetType().Name} for a truncation to {length} bytes of {Convert.ToHexString(payload)}: {ex}");
                }
            }
        }
    }

    [Fact]
    public void MutatedPayloads_DecodeOrThrowWireFormatException_AndWhatDecodesReencodes()
    {
        var random = new Random(Seed + 2);
        var corpus = Corpus().ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = corpus[random.Next(corpus.Length)].ToList();
            var edits = random.Next(1, 4);
            for (var e = 0; e < edits && bytes.Count > 0; e++)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(4))
                {
                    case 0:
                        bytes[at] = (byte)random.Next(256);
                        break;
                    case 1:
                        bytes[at] = Interesting[random.Next(Interesting.Length)];
                        break;
                    case 2:
                        bytes.RemoveAt(at);
                        break;
                    default:
                        bytes.Insert(at, Interesting[random.Next(Interesting.Length)]);
                        break;
                }
            }

            var input = bytes.ToArray();
            var decoded = AssertDecodesOrRefuses(input);
            if (decoded is { } message)
            {
                // Anything accepted can be written again and reads back the same.
                var again = message.AsgiChannel switch
                {
                    null => MessageCodec.Encode(message.Message),
                    string channel => MessageCodec.Encode(message.Message, channel),
                    _ => MessageCodec.Encode(message.Message, message.TargetChannels),
                };
                MessageValueAssert.Equal(message.Message, MessageCodec.Decode(again).Message);
            }
        }
    }

    [Fact]
    public void RandomMembers_WithAFernetCipher_ThrowOnlyOurExceptions()
    {
        var random = new Random(Seed + 3);
        var serializer = new ChannelsRedisSerializer(FernetCipher.FromSymmetricEncryptionKeys(["fuzz"], TimeSpan.FromSeconds(70)));
        var valid = serializer.Serialize(RandomValues.Message(random));
        var base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ "u8.ToArray();
        for (var i = 0; i < 5_000; i++)
        {
            byte[] member;
            switch (random.Next(4))
            {
                case 0:
                    member = RandomValues.RandomBytes(random, random.Next(0, 120));
                    break;
                case 1:
                    member = new byte[random.Next(0, 200)];
                    for (var j = 0; j < member.Length; j++)
                    {
                        member[j] = base64[random.Next(base64.Length)];
                    }

                    break;
                case 2:
                    member = valid[..random.Next(0, valid.Length)];
                    break;
                default:
                    member = (byte[])valid.Clone();
                    member[random.Next(12, member.Length)] = base64[random.Next(base64.Length)];
                    break;
            }

            try
            {
                serializer.Deserialize(member);
            }
            catch (Exception ex) when (ex is WireFormatException or InvalidTokenException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"{ex.GetType().Name} for member {Convert.ToHexString(member)}: {ex}");
            }
        }
    }

    private static DecodedMessage? AssertDecodesOrRefuses(byte[] input)
    {
        DecodedMessage? result = null;
        try
        {
            result = MessageCodec.Decode(input);
        }
        catch (WireFormatException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"Decode threw {ex.GetType().Name} for {Convert.ToHexString(input)}: {ex}");
        }

        try
        {
            MessageCodec.DecodeValue(input);
        }
        catch (WireFormatException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"DecodeValue threw {ex.GetType().Name} for {Convert.ToHexString(input)}: {ex}");
        }

        return result;
    }

    private static IEnumerable<byte[]> Corpus()
    {
        foreach (var vector in WireVectors.Msgpack)
        {
            yield return Convert.FromBase64String(vector!["packed"]!.GetValue<string>());
        }

        var random = new Random(Seed + 4);
        for (var i = 0; i < 150; i++)
        {
            var message = RandomValues.Message(random, maxDepth: 3);
            var bytes = (i % 3) switch
            {
                0 => MessageCodec.Encode(message),
                1 => MessageCodec.Encode(message, "specific.abc!x"),
                _ => MessageCodec.Encode(message, ["specific.abc!x", "specific.abc!y"]),
            };
            if (bytes.Length <= 4096)
            {
                yield return bytes;
            }
        }
    }
}
