using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// a3/a4) send+receive on one channel, streamed: one sender task keeps up to <see cref="Window"/> messages
/// sent but not yet received (each send is started without waiting for the previous one once a slot is
/// free), and one receiver task receives them and frees a slot per message. On a plain channel (a3)
/// every receive is still one pop, one round trip; on a process-local (<c>!</c>) channel (a4) the layer's
/// pump or, for its own channels, the in-process path delivers. The same loop runs in Python with
/// asyncio tasks and an <c>asyncio.Semaphore</c> of the same size. Every message carries <c>seq</c>;
/// the receiver checks that each arrived exactly once (concurrent sends need not keep their order).
/// One operation = one message sent and received.
/// </summary>
public sealed class RedisStreamScenario : IAsyncDisposable
{
    /// <summary>Messages sent but not yet received at most: below the channel capacity (100), so no send is refused.</summary>
    public const int Window = 50;

    /// <summary>Messages per measured Python round.</summary>
    public const int PythonMessages = 1_000;

    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(120);

    private readonly RedisChannelLayer _layer;
    private readonly PythonPeer _python;
    private readonly bool _local;
    private readonly bool _encrypted;
    private readonly ChannelMessage[] _messages;
    private string _channel = "";

    private RedisStreamScenario(RedisServerProcess server, PythonPeer python, bool local, bool encrypted)
    {
        _python = python;
        _local = local;
        _encrypted = encrypted;
        _layer = RedisBench.NewLayer(server.Url, encrypted, capacity: 100);
        // The in-process path is ~100x faster than a round trip: more messages keep its rounds measurable.
        OursMessages = local ? 30_000 : 3_000;
        _messages =
        [
            .. Enumerable.Range(0, OursMessages).Select(static k => ChannelMessage.Create(
                "chat.message",
                [new KeyValuePair<string, object?>("text", new string('x', BenchMessages.BodyLength)), new KeyValuePair<string, object?>("seq", (long)k)])),
        ];
    }

    /// <summary>Messages per measured .NET round.</summary>
    public int OursMessages { get; }

    public string Id => (_local ? "a4" : "a3") + (_encrypted ? "e" : "");

    public string Title => $"send+receive on one {(_local ? "process-local (!) channel" : "plain channel")}, streamed (one sender, one receiver, {Window} in flight), {(_encrypted ? "encrypted (Fernet)" : "plain msgpack")}";

    public static async Task<RedisStreamScenario> CreateAsync(RedisServerProcess server, PythonPeer python, bool local, bool encrypted)
    {
        var scenario = new RedisStreamScenario(server, python, local, encrypted);
        scenario._channel = local ? await scenario._layer.NewChannelAsync("bench") : "bench.stream." + (encrypted ? "enc" : "plain");
        return scenario;
    }

    public IReadOnlyList<RedisCase> Cases(int oursRounds, int pythonRounds, Harness.HarnessSettings settings) =>
    [
        new RedisCase("Channels.Net RedisChannelLayer", "msg", OursMessages, OursRoundAsync)
        {
            Rounds = oursRounds,
            MinWarmupRounds = settings.MinWarmupRounds,
            MinWarmupTime = settings.MinWarmupTime,
            ForceGc = settings.ForceGcBeforeRound,
        },
        new RedisCase($"channels_redis {RedisBench.PythonLabel}", "msg", PythonMessages, PythonRoundAsync)
        {
            IsBaseline = true,
            Rounds = pythonRounds,
            MinWarmupRounds = 1, // the first round also makes the layer and its connections: not for the census
            MinWarmupTime = TimeSpan.Zero,
        },
    ];

    public ValueTask DisposeAsync() => _layer.DisposeAsync();

    private Task<Measured> OursRoundAsync(RoundKind kind) => DotNetTimer.TimeAsync(OursMessages, async () =>
    {
        IChannelLayer layer = _layer;
        using var slots = new SemaphoreSlim(Window, Window);
        var receiver = ReceiveAllAsync(layer, slots);
        var pending = new List<Task>();
        foreach (var message in _messages)
        {
            await slots.WaitAsync();
            var send = layer.SendAsync(_channel, message);
            if (!send.IsCompletedSuccessfully)
            {
                pending.Add(send.AsTask());
            }
        }

        await Task.WhenAll(pending);
        await receiver.WaitAsync(RoundTimeout);
        return 0;
    });

    private async Task ReceiveAllAsync(IChannelLayer layer, SemaphoreSlim slots)
    {
        await Task.Yield(); // the receiver is a task of its own, as in Python
        long sum = 0;
        for (var i = 0; i < OursMessages; i++)
        {
            var received = await layer.ReceiveAsync(_channel);
            sum += received.GetInt64("seq") ?? throw new InvalidOperationException("Benchmark is broken: a message without seq.");
            slots.Release();
        }

        if (sum != (long)OursMessages * (OursMessages - 1) / 2)
        {
            throw new InvalidOperationException($"Benchmark is broken: received the wrong messages (seq sum {sum}).");
        }
    }

    private async Task<Measured> PythonRoundAsync(RoundKind kind)
    {
        var n = kind == RoundKind.Warmup ? PythonMessages / 10 : PythonMessages;
        var answer = await _python.RunAsync(
            new JsonObject { ["op"] = "stream", ["key"] = Id, ["local"] = _local, ["encrypted"] = _encrypted, ["n"] = n, ["window"] = Window },
            RedisBench.PythonTimeout);
        return Measured.FromSeconds((long)answer["ops"]!, (double)answer["seconds"]!);
    }
}
