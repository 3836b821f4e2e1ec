using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// b) group_send fan-out. The members are process-local channels (<c>NewChannelAsync</c>) of the receiving
/// layer(s), each with a consumer already waiting in <c>ReceiveAsync</c>, as WebSocket consumers are. The
/// sender awaits <see cref="Messages"/> <c>GroupSendAsync</c> calls one after another; the clock stops when
/// the last member has received the last message. With <see cref="Layers"/> &gt; 1 the members are spread
/// round-robin over that many layers (each its own client prefix, Redis key, receive pump and connections:
/// one layer per server process, as in a deployment with several processes), and the first layer sends.
/// With <see cref="SeparateSender"/> a layer holding no member sends (another process's layer): then every
/// delivery goes through Redis, where a layer sending to its own members hands them the message in-process.
/// One operation = one delivery (one message received by one member).
/// </summary>
public sealed class RedisFanOutScenario : IAsyncDisposable
{
    /// <summary>Target: ours at least this many times Python's deliveries/s.</summary>
    public const double MinSpeedup = 30;

    /// <summary>Per-key and per-channel capacity for both implementations: above what one round queues.</summary>
    public const int Capacity = 1_000;

    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(120);

    private readonly RedisChannelLayer[] _layers;
    private readonly RedisChannelLayer _sender;
    private readonly (IChannelLayer Layer, string Channel)[] _members;
    private readonly ChannelMessage[] _messages;
    private readonly PythonPeer _python;
    private readonly string _group;

    private RedisFanOutScenario(RedisServerProcess server, PythonPeer python, int members, int messages, int layers, bool separateSender, bool encrypted, string id)
    {
        _python = python;
        Members = members;
        Messages = messages;
        Layers = layers;
        SeparateSender = separateSender;
        Encrypted = encrypted;
        Id = id;
        _group = "bench-fanout-" + id;
        _layers = [.. Enumerable.Range(0, layers).Select(_ => RedisBench.NewLayer(server.Url, encrypted, Capacity))];
        _sender = separateSender ? RedisBench.NewLayer(server.Url, encrypted, Capacity) : _layers[0];
        _members = new (IChannelLayer, string)[members];
        _messages =
        [
            .. Enumerable.Range(0, messages).Select(static k => ChannelMessage.Create(
                "chat.message",
                [new KeyValuePair<string, object?>("text", new string('x', BenchMessages.BodyLength)), new KeyValuePair<string, object?>("seq", (long)k)])),
        ];
    }

    public string Id { get; }

    public int Members { get; }

    public int Messages { get; }

    public int Layers { get; }

    /// <summary>True when a layer without members sends (every delivery through Redis).</summary>
    public bool SeparateSender { get; }

    public bool Encrypted { get; }

    public long Deliveries => (long)Members * Messages;

    public string Title => string.Create(
        CultureInfo.InvariantCulture,
        $"group_send fan-out, {Members} members x {Messages} messages, members on {(Layers == 1 ? "1 layer" : $"{Layers} layers")}{(SeparateSender ? ", sent from another layer" : "")}, {(Encrypted ? "encrypted (Fernet)" : "plain msgpack")}");

    public static async Task<RedisFanOutScenario> CreateAsync(RedisServerProcess server, PythonPeer python, int members, int messages, int layers, bool separateSender, bool encrypted, string id)
    {
        var scenario = new RedisFanOutScenario(server, python, members, messages, layers, separateSender, encrypted, id);
        for (var i = 0; i < members; i++)
        {
            var layer = scenario._layers[i % layers];
            var channel = await layer.NewChannelAsync("bench");
            scenario._members[i] = (layer, channel);
            await scenario._sender.GroupAddAsync(scenario._group, channel);
        }

        return scenario;
    }

    public IReadOnlyList<RedisCase> Cases(int oursRounds, int pythonRounds, Harness.HarnessSettings settings) =>
    [
        new RedisCase("Channels.Net RedisChannelLayer", "delivery", Deliveries, OursRoundAsync)
        {
            Rounds = oursRounds,
            MinWarmupRounds = settings.MinWarmupRounds,
            MinWarmupTime = settings.MinWarmupTime,
            ForceGc = settings.ForceGcBeforeRound,
        },
        new RedisCase($"channels_redis {RedisBench.PythonLabel}", "delivery", Deliveries, PythonRoundAsync)
        {
            IsBaseline = true,
            Rounds = pythonRounds,
            MinWarmupRounds = 1, // the first round also makes the layer, its connections (and the group): not for the census
            MinWarmupTime = TimeSpan.Zero,
        },
    ];

    public async ValueTask DisposeAsync()
    {
        foreach (var layer in _layers)
        {
            await layer.DisposeAsync();
        }

        if (SeparateSender)
        {
            await _sender.DisposeAsync();
        }
    }

    private Task<Measured> OursRoundAsync(RoundKind kind)
    {
        // Every consumer is waiting in ReceiveAsync before the clock starts.
        var consumers = new Task[_members.Length];
        for (var i = 0; i < consumers.Length; i++)
        {
            consumers[i] = ConsumeAsync(_members[i].Layer, _members[i].Channel, Messages);
        }

        return DotNetTimer.TimeAsync(Deliveries, async () =>
        {
            IChannelLayer sender = _sender;
            foreach (var message in _messages)
            {
                await sender.GroupSendAsync(_group, message);
            }

            var sent = Stopwatch.GetTimestamp();
            await Task.WhenAll(consumers).WaitAsync(RoundTimeout);
            return sent;
        });
    }

    private static async Task ConsumeAsync(IChannelLayer layer, string channel, int messages)
    {
        long sum = 0;
        for (var k = 0; k < messages; k++)
        {
            var received = await layer.ReceiveAsync(channel);
            sum += received.GetInt64("seq") ?? throw new InvalidOperationException("Benchmark is broken: a message without seq.");
        }

        if (sum != (long)messages * (messages - 1) / 2)
        {
            throw new InvalidOperationException($"Benchmark is broken: {channel} received the wrong messages (seq sum {sum}).");
        }
    }

    private async Task<Measured> PythonRoundAsync(RoundKind kind)
    {
        var messages = kind == RoundKind.Warmup ? Math.Max(2, Messages / 10) : Messages;
        var answer = await _python.RunAsync(
            new JsonObject
            {
                ["op"] = "fanout", ["key"] = Id, ["members"] = Members, ["messages"] = messages, ["layers"] = Layers, ["encrypted"] = Encrypted,
                ["separate_sender"] = SeparateSender,
            },
            RedisBench.PythonTimeout);
        return Measured.FromSeconds((long)answer["ops"]!, (double)answer["seconds"]!, (double)answer["send_seconds"]!);
    }
}
