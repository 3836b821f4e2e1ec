using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Wire;

/// <summary>Builds the tables, runs the Python peer once for the whole class, and keeps its answer.</summary>
public sealed class PythonMsgpackExchange
{
    private readonly List<(string Name, object? Value, byte[] Ours)> _values = [];
    private readonly List<(string Name, ChannelMessage Message, object? Asgi, byte[] OursMember)> _messages = [];

    public PythonMsgpackExchange()
    {
        foreach (var row in MessageCodecRoundTripTests.Values())
        {
            AddValue((string)row[0], row[1]);
        }

        var random = new Random(424242);
        for (var i = 0; i < 300; i++)
        {
            AddValue($"random value {i}", RandomValues.Value(random, 3));
        }

        AddValue("wire vector message", MessageCodec.Decode(Convert.FromBase64String(WireVectors.Msgpack[1]!["packed"]!.GetValue<string>())).Message);

        var serializer = new ChannelsRedisSerializer();
        void AddMessage(string name, ChannelMessage message, object? asgi)
        {
            var member = asgi switch
            {
                null => serializer.Serialize(message),
                string channel => serializer.Serialize(message, channel),
                _ => serializer.Serialize(message, (string[])asgi),
            };
            _messages.Add((name, message, asgi, member));
        }

        var chat = Message("chat.message", ("message", "hello"), ("user_id", 42), ("avatar", Bytes(0, 255)), ("tags", List("a", "b")));
        AddMessage("send to a plain channel", chat, null);
        AddMessage("send to a process-local channel", chat, "specific.0123456789abcdef!fedcba9876543210");
        AddMessage("group send, one member", chat, new[] { "specific.abc!one" });
        AddMessage("group send, three members under one key", chat, new[] { "specific.abc!d1", "specific.abc!d2", "specific.abc!d3" });
        AddMessage("group send to a plain channel", chat, new[] { "plain.channel" });
        for (var i = 0; i < 40; i++)
        {
            var message = RandomValues.Message(random);
            AddMessage($"random message {i}", message, (i % 3) switch
            {
                0 => null,
                1 => "specific.rnd!x" + i,
                _ => new[] { "specific.rnd!a" + i, "specific.rnd!b" + i },
            });
        }

        var request = new JsonObject
        {
            ["values"] = new JsonArray(_values.Select(v => (JsonNode)new JsonObject
            {
                ["name"] = v.Name,
                ["value"] = TaggedValue.ToTagged(v.Value),
                ["dotnet"] = Convert.ToBase64String(v.Ours),
            }).ToArray()),
            ["messages"] = new JsonArray(_messages.Select(m => (JsonNode)new JsonObject
            {
                ["name"] = m.Name,
                ["message"] = TaggedValue.ToTagged(m.Message),
                ["asgi"] = m.Asgi switch
                {
                    null => null,
                    string channel => JsonValue.Create(channel),
                    _ => new JsonArray(((string[])m.Asgi).Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
                },
                ["dotnet_member"] = Convert.ToBase64String(m.OursMember),
            }).ToArray()),
        };

        Answer = PythonPeer.Run("msgpack", request);
    }

    public JsonObject Answer { get; }

    public IEnumerable<(string Name, object? Value, byte[] Ours, JsonNode Answer)> Values()
    {
        var answers = Answer["values"]!.AsArray();
        Assert.Equal(_values.Count, answers.Count);
        for (var i = 0; i < _values.Count; i++)
        {
            yield return (_values[i].Name, _values[i].Value, _values[i].Ours, answers[i]!);
        }
    }

    public IEnumerable<(string Name, ChannelMessage Message, object? Asgi, byte[] OursMember, JsonNode Answer)> Messages()
    {
        var answers = Answer["messages"]!.AsArray();
        Assert.Equal(_messages.Count, answers.Count);
        for (var i = 0; i < _messages.Count; i++)
        {
            yield return (_messages[i].Name, _messages[i].Message, _messages[i].Asgi, _messages[i].OursMember, answers[i]!);
        }
    }

    private void AddValue(string name, object? value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        MessageCodec.EncodeValue(value, buffer);
        _values.Add((name, value, buffer.WrittenSpan.ToArray()));
    }
}
