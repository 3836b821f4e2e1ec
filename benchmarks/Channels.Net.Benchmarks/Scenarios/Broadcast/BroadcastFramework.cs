namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>The two servers the broadcast suite compares.</summary>
public enum BroadcastFramework
{
    /// <summary>Channels.Net: <see cref="ChatConsumer"/> on the in-memory layer, raw ClientWebSocket clients.</summary>
    ChannelsNet,

    /// <summary>ASP.NET Core SignalR: <see cref="ChatHub"/>, JSON protocol, WebSockets transport, SignalR .NET clients.</summary>
    SignalR,

    /// <summary>The floor: a hand-written ASP.NET Core WebSocket endpoint (<see cref="BareWebSocketRoom"/>), raw
    /// ClientWebSocket clients. Measured for memory only, to show what Kestrel and the WebSocket cost by themselves.</summary>
    BareWebSocket,
}

internal static class BroadcastFrameworks
{
    public static string Label(this BroadcastFramework framework) => framework switch
    {
        BroadcastFramework.ChannelsNet => "Channels.Net",
        BroadcastFramework.SignalR => "SignalR",
        _ => "bare WebSocket",
    };
}
