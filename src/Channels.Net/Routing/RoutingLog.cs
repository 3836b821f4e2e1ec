using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Routing;

/// <summary>What the routers log, through the connection's services.</summary>
internal static partial class RoutingLog
{
    /// <summary>The logger for <typeparamref name="TRouter"/> from the connection's services, or null when there is none.</summary>
    public static ILogger? For<TRouter>(ChannelScope scope) =>
        scope.ApplicationServices?.GetService<ILogger<TRouter>>();

    /// <summary>Information for a WebSocket; Debug for HTTP, where most requests (static files, APIs)
    /// legitimately pass through the channels router to the rest of the pipeline.</summary>
    [LoggerMessage(EventId = 400, Message = "No route found for path {Path}.")]
    public static partial void NoRouteFound(ILogger logger, LogLevel level, string path);

    [LoggerMessage(401, LogLevel.Information, "No application configured for scope type {ScopeType}")]
    public static partial void NoApplicationForScopeType(ILogger logger, string scopeType);

    [LoggerMessage(402, LogLevel.Information, "No application configured for channel name {Channel}")]
    public static partial void NoApplicationForChannel(ILogger logger, string channel);

    [LoggerMessage(403, LogLevel.Warning, "ChannelNameRouter got a scope without a 'channel' key. Did you make sure it's only being used for 'channel' type messages?")]
    public static partial void ScopeWithoutChannel(ILogger logger);
}
