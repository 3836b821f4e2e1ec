using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// a) One 100-byte message sent and then received on one channel, in a loop (no receive waiting while
/// the send runs): <c>await SendAsync</c> then <c>await ReceiveAsync</c>, N times. On a plain channel the
/// receive pops the channel's key itself; on a process-local (<c>!</c>) channel the layer's receive pump
/// pops it and hands it over. The same loop runs in Python with channels_redis on the same Redis.
/// One operation = one message sent and received.
/// </summary>
public sealed class RedisSendReceiveScenario : IAsyncDisposable
{
    /// <summary>Messages per measured .NET round.</summary>
    public const int OursMessages = 1_500;

    /// <summary>Messages per measured Python round (Python is ~25x slower; its rounds stay under ~1 s on a quiet machine).</summary>
    public const int PythonMessages = 500;

    /// <summary>Target: ours at least this many times Python's messages/s.</summary>
    public const double MinSpeedup = 25;

    private readonly RedisChannelLayer _layer;
    private readonly PythonPeer _python;
    private readonly bool _local;
    private readonly bool _encrypted;
    private readonly ChannelMessage _message = BenchMessages.Chat100();
    private string _channel = "";

    private RedisSendReceiveScenario(RedisServerProcess server, PythonPeer python, bool local, bool encrypted)
    {
        _python = python;
        _local = local;
        _encrypted = encrypted;
        _layer = RedisBench.NewLayer(server.Url, encrypted, capacity: 100);
    }

    public string Id => (_local ? "a2" : "a1") + (_encrypted ? "e" : "");

    public string Title => $"send+receive on one {(_local ? "process-local (!) channel" : "plain channel")}, sequential, {(_encrypted ? "encrypted (Fernet)" : "plain msgpack")}";

    public static async Task<RedisSendReceiveScenario> CreateAsync(RedisServerProcess server, PythonPeer python, bool local, bool encrypted)
    {
        var scenario = new RedisSendReceiveScenario(server, python, local, encrypted);
        scenario._channel = local ? await scenario._layer.NewChannelAsync("bench") : "bench.sr." + (encrypted ? "enc" : "plain");
        return scenario;
    }

    public IReadOnlyList<RedisCase> Cases(int oursRounds, int pythonRounds, Harness.HarnessSettings settings) =>
    [
        new RedisCase($"Channels.Net RedisChannelLayer", "msg", OursMessages, OursRoundAsync)
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
            MinWarmupRounds = 1, // the first round also makes the layer, its connections (and the group): not for the census
            MinWarmupTime = TimeSpan.Zero,
        },
    ];

    public ValueTask DisposeAsync() => _layer.DisposeAsync();

    private Task<Measured> OursRoundAsync(RoundKind kind) => DotNetTimer.TimeAsync(OursMessages, async () =>
    {
        IChannelLayer layer = _layer;
        for (var i = 0; i < OursMessages; i++)
        {
            await layer.SendAsync(_channel, _message);
            var received = await layer.ReceiveAsync(_channel);
            if (received.Type != "chat.message" || received.GetString("text")?.Length != BenchMessages.BodyLength)
            {
                throw new InvalidOperationException("Benchmark is broken: received a different message.");
            }
        }

        return 0;
    });

    private async Task<Measured> PythonRoundAsync(RoundKind kind)
    {
        var n = kind == RoundKind.Warmup ? PythonMessages / 10 : PythonMessages;
        var answer = await _python.RunAsync(
            new JsonObject { ["op"] = "send_receive", ["key"] = Id, ["local"] = _local, ["encrypted"] = _encrypted, ["n"] = n },
            RedisBench.PythonTimeout);
        return Measured.FromSeconds((long)answer["ops"]!, (double)answer["seconds"]!);
    }
}
