using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>
/// Our codec against the REAL msgpack-python and channels_redis (/usr/bin/python3), both ways:
/// Python packs every value of a table and we compare bytes and read them; Python reads what we
/// pack; channels_redis's own serialize / deserialize / group-send bucketing exchange members with
/// ours. Fails (never skips) when Python or its packages are missing.
/// </summary>
public sealed class PythonMsgpackInteropTests : IClassFixture<PythonMsgpackExchange>
{
    private readonly PythonMsgpackExchange _exchange;

    public PythonMsgpackInteropTests(PythonMsgpackExchange exchange)
    {
        _exchange = exchange;
    }

    [Fact]
    public void ThePeerIsMsgpackOne()
    {
        var versions = _exchange.Answer["versions"]!;
        Assert.StartsWith("1.", versions["msgpack"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_PythonPacksExactlyOurBytes()
    {
        var failures = new List<string>();
        foreach (var (name, value, ours, answer) in _exchange.Values())
        {
            var python = Convert.FromBase64String(answer["python"]!.GetValue<string>());
            if (!python.AsSpan().SequenceEqual(ours))
            {
                failures.Add($"{name}: Python {Shorten(ToHex(python))}, ours {Shorten(ToHex(ours))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Values_WeReadWhatPythonPacks()
    {
        var failures = new List<string>();
        foreach (var (name, value, _, answer) in _exchange.Values())
        {
            var decoded = MessageCodec.DecodeValue(Convert.FromBase64String(answer["python"]!.GetValue<string>()));
            if (MessageValueAssert.FindDifference(value, decoded, name) is { } difference)
            {
                failures.Add(difference);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Values_PythonReadsWhatWePack()
    {
        var failures = _exchange.Values()
            .Where(v => !v.Answer["read_ok"]!.GetValue<bool>())
            .Select(v => $"{v.Name}: {v.Answer["detail"]}")
            .ToList();

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Messages_ChannelsRedisSerializeGivesOurPayload()
    {
        var failures = new List<string>();
        foreach (var (name, _, _, ours, answer) in _exchange.Messages())
        {
            var member = Convert.FromBase64String(answer["python_member"]!.GetValue<string>());
            if (!member.AsSpan(ChannelsRedisSerializer.RandomPrefixLength).SequenceEqual(ours.AsSpan(ChannelsRedisSerializer.RandomPrefixLength)))
            {
                failures.Add($"{name}: channels_redis {Shorten(ToHex(member.AsSpan(12)))}, ours {Shorten(ToHex(ours.AsSpan(12)))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Messages_ChannelsRedisDeserializesOurMembers()
    {
        var failures = _exchange.Messages()
            .Where(m => !m.Answer["read_ok"]!.GetValue<bool>())
            .Select(m => $"{m.Name}: {m.Answer["detail"]}")
            .ToList();

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Messages_WeDeserializeChannelsRedisMembers()
    {
        var serializer = new ChannelsRedisSerializer();
        foreach (var (name, message, asgi, _, answer) in _exchange.Messages())
        {
            var decoded = serializer.Deserialize(Convert.FromBase64String(answer["python_member"]!.GetValue<string>()));

            MessageValueAssert.Equal(message, decoded.Message, name);
            switch (asgi)
            {
                case null:
                    Assert.Null(decoded.AsgiChannel);
                    break;
                case string channel:
                    Assert.Equal(channel, decoded.AsgiChannel);
                    break;
                case string[] channels:
                    Assert.Equal(channels, decoded.TargetChannels);
                    break;
            }
        }
    }

    [Fact]
    public void PythonOnlyForms_AreReadAsDocumented_OrRefusedClearly()
    {
        var cases = _exchange.Answer["python_only"]!.AsArray();
        Assert.NotEmpty(cases);
        foreach (var item in cases)
        {
            var name = item!["name"]!.GetValue<string>();
            var packed = Convert.FromBase64String(item["packed"]!.GetValue<string>());
            if (item["error"] is null)
            {
                var expected = Assert.IsAssignableFrom<MessageMap>(TaggedValue.FromTagged(item["expected"]!));
                MessageValueAssert.Equal(expected, MessageCodec.Decode(packed).Message, name);
            }
            else
            {
                var error = Record.Exception(() => MessageCodec.Decode(packed));
                Assert.True(error is WireFormatException, $"{name}: expected a WireFormatException, got {error?.GetType().Name ?? "a message"}");
            }
        }
    }

    private static string Shorten(string hex) => hex.Length <= 200 ? hex : $"{hex[..200]}... ({hex.Length / 2} bytes)";
}
