using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Tests.Routing;

/// <summary>Scopes as the host makes them, and a way to run an application on one.</summary>
internal static class RoutingHarness
{
    /// <summary>Services with no logging at all.</summary>
    public static IServiceProvider NoServices { get; } = new ServiceCollection().BuildServiceProvider();

    /// <summary>Services whose loggers write to <paramref name="provider"/>.</summary>
    public static IServiceProvider LoggingTo(RecordingLoggerProvider provider) =>
        new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(provider))
            .BuildServiceProvider();

    /// <summary>A WebSocket scope for <paramref name="path"/>; <see cref="ChannelScope.PathRemaining"/> is the whole path, as the host sets it.</summary>
    public static ChannelScope WebSocket(string path, IServiceProvider? services = null) => new()
    {
        Type = ChannelScopeType.WebSocket,
        Path = path,
        RawPath = path,
        PathRemaining = path.TrimStart('/'),
        Scheme = "ws",
        Method = "GET",
        RequestServices = services ?? NoServices,
    };

    /// <summary>A worker scope for <paramref name="channel"/>.</summary>
    public static ChannelScope Channel(string? channel, IServiceProvider? services = null) => new()
    {
        Type = ChannelScopeType.Channel,
        Channel = channel,
        RequestServices = services ?? NoServices,
    };

    /// <summary>Runs <paramref name="application"/> on a WebSocket scope for <paramref name="path"/>.</summary>
    public static async Task<FakeSession> RunAsync(IChannelApplication application, string path, IServiceProvider? services = null)
    {
        var session = new FakeSession();
        await application.RunAsync(WebSocket(path, services), session);
        return session;
    }

    /// <summary>Runs <paramref name="application"/> on <paramref name="scope"/>.</summary>
    public static async Task<FakeSession> RunAsync(IChannelApplication application, ChannelScope scope)
    {
        var session = new FakeSession();
        await application.RunAsync(scope, session);
        return session;
    }
}
