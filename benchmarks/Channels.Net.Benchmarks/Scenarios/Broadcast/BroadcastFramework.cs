namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>The kinds of room server the broadcast suite starts (each kind's set-up is in a file of its own).</summary>
public enum BroadcastFramework
{
    /// <summary>Channels.Net: <see cref="ChatConsumer"/> on the in-memory layer (<see cref="ChannelsNetHost"/>), raw ClientWebSocket clients.</summary>
    ChannelsNet,

    /// <summary>Channels.Net: <see cref="ChatConsumer"/> on <c>Channels.Net.Redis</c>'s RedisChannelLayer (defaults).</summary>
    ChannelsNetRedis,

    /// <summary>Channels.Net: <see cref="ChatConsumer"/> on RedisPubSubChannelLayer (defaults).</summary>
    ChannelsNetPubSub,

    /// <summary>ASP.NET Core SignalR: <see cref="ChatHub"/> (<see cref="SignalRHost"/>), JSON protocol, WebSockets transport, SignalR .NET clients.</summary>
    SignalR,

    /// <summary>SignalR with its Redis backplane (Microsoft.AspNetCore.SignalR.StackExchangeRedis, defaults).</summary>
    SignalRRedis,

    /// <summary>Django: the Channels tutorial's async ChatConsumer under daphne on channels_redis (<see cref="DaphneServer"/>).</summary>
    Django,

    /// <summary>The floor: a hand-written ASP.NET Core WebSocket endpoint (<see cref="BareWebSocketRoom"/>), raw
    /// ClientWebSocket clients. Measured for memory only, to show what Kestrel and the WebSocket cost by themselves.</summary>
    BareWebSocket,
}

internal static class BroadcastFrameworks
{
    public static string Label(this BroadcastFramework framework) => framework switch
    {
        BroadcastFramework.ChannelsNet => "Channels.Net",
        BroadcastFramework.ChannelsNetRedis => "Channels.Net Redis",
        BroadcastFramework.ChannelsNetPubSub => "Channels.Net PubSub",
        BroadcastFramework.SignalR => "SignalR",
        BroadcastFramework.SignalRRedis => "SignalR Redis",
        BroadcastFramework.Django => "Django",
        _ => "bare WebSocket",
    };

    /// <summary>The server needs the suite's redis-server.</summary>
    public static bool NeedsRedis(this BroadcastFramework framework) =>
        framework is BroadcastFramework.ChannelsNetRedis or BroadcastFramework.ChannelsNetPubSub or BroadcastFramework.SignalRRedis or BroadcastFramework.Django;
}
