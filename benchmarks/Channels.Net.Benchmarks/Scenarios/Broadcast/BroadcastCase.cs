using System.Globalization;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>The burst a case runs: <see cref="Clients"/> clients in one room, the first <see cref="Senders"/> of them
/// sending <see cref="PerSender"/> messages each as fast as their connection takes them.</summary>
internal sealed record BroadcastLoad(int Clients, int Senders, int PerSender)
{
    /// <summary>The suite's load: 200 clients, 10 × 200 messages, 400,000 deliveries per round.</summary>
    public static BroadcastLoad Full { get; } = new(200, 10, 200);

    /// <summary>A load daphne + channels_redis carries: 50 clients, 5 × 20 messages, 5,000 deliveries per round
    /// (100 messages per receiver and round: exactly channels_redis's default capacity).</summary>
    public static BroadcastLoad Small { get; } = new(50, 5, 20);

    public int PerClient => Senders * PerSender;

    public long Deliveries => (long)Clients * PerClient;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Clients} clients, {Senders} x {PerSender} msgs = {Deliveries:N0} deliveries");
}

/// <summary>One row of the burst comparison: a server kind, how many servers share the room, the layer, the load.</summary>
/// <param name="Id">The name <c>--frameworks</c> selects it by.</param>
/// <param name="LayerCapacity">The in-memory layer's capacity for the "tuned" variant; null: every default.</param>
internal sealed record BroadcastCase(string Id, BroadcastFramework Framework, int Servers, string Layer, BroadcastLoad Load, int? LayerCapacity = null)
{
    public string Label => $"{Framework.Label()}{(LayerCapacity is null ? "" : " (tuned)")}";

    /// <summary>Every case, in the order they run: the defaults first; the tuned variant right after the default it
    /// varies (only when <paramref name="tunedCapacity"/> is given).</summary>
    public static IReadOnlyList<BroadcastCase> All(int? tunedCapacity)
    {
        var full = BroadcastLoad.Full;
        var small = BroadcastLoad.Small;
        var cases = new List<BroadcastCase>
        {
            new("channels-inmemory", BroadcastFramework.ChannelsNet, 1, "in-memory (capacity 100)", full),
        };
        if (tunedCapacity is { } capacity)
        {
            cases.Add(new("channels-inmemory-tuned", BroadcastFramework.ChannelsNet, 1, string.Create(CultureInfo.InvariantCulture, $"in-memory, capacity raised to {capacity:N0}"), full, capacity));
        }

        cases.AddRange(
        [
            new("signalr", BroadcastFramework.SignalR, 1, "none (in-process groups)", full),
            new("channels-redis", BroadcastFramework.ChannelsNetRedis, 1, "RedisChannelLayer (capacity 100)", full),
            new("channels-redis-2", BroadcastFramework.ChannelsNetRedis, 2, "RedisChannelLayer (capacity 100)", full),
            new("channels-pubsub", BroadcastFramework.ChannelsNetPubSub, 1, "RedisPubSubChannelLayer", full),
            new("channels-pubsub-2", BroadcastFramework.ChannelsNetPubSub, 2, "RedisPubSubChannelLayer", full),
            new("signalr-redis", BroadcastFramework.SignalRRedis, 1, "Redis backplane", full),
            new("signalr-redis-2", BroadcastFramework.SignalRRedis, 2, "Redis backplane", full),
            new("channels-redis-small", BroadcastFramework.ChannelsNetRedis, 1, "RedisChannelLayer (capacity 100)", small),
            new("django", BroadcastFramework.Django, 1, "channels_redis core (capacity 100)", small),
        ]);
        return cases;
    }
}
