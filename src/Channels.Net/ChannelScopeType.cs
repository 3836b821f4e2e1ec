namespace Channels.Net;

/// <summary>The values of <see cref="ChannelScope.Type"/> (ASGI's <c>scope["type"]</c>).</summary>
public static class ChannelScopeType
{
    /// <summary>A WebSocket connection.</summary>
    public const string WebSocket = "websocket";

    /// <summary>An HTTP request.</summary>
    public const string Http = "http";

    /// <summary>A named channel served by a worker (Django's <c>runworker</c>).</summary>
    public const string Channel = "channel";
}
