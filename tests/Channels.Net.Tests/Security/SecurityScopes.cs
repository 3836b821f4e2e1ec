using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Tests.Security;

/// <summary>Scopes for the origin validator tests.</summary>
internal static class SecurityScopes
{
    public static IServiceProvider NoServices { get; } = new ServiceCollection().BuildServiceProvider();

    /// <summary>A WebSocket scope with one Origin header per value in <paramref name="origins"/>.</summary>
    public static ChannelScope WebSocket(IServiceProvider services, params string[] origins) =>
        WithHeaders(services, origins.Select(o => new KeyValuePair<string, string>("origin", o)).ToArray());

    /// <summary>A WebSocket scope with <paramref name="headers"/> besides a host and a user agent.</summary>
    public static ChannelScope WithHeaders(IServiceProvider services, params KeyValuePair<string, string>[] headers) => new()
    {
        Type = ChannelScopeType.WebSocket,
        Path = "/ws/chat/lobby/",
        PathRemaining = "ws/chat/lobby/",
        Scheme = "ws",
        Method = "GET",
        Headers = [new("host", "example.com"), .. headers, new("user-agent", "test")],
        RequestServices = services,
    };
}
