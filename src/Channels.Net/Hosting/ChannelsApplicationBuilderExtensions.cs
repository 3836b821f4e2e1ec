using Channels.Net;
using Channels.Net.Hosting.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves a Channels.Net application from an ASP.NET Core pipeline.</summary>
public static class ChannelsApplicationBuilderExtensions
{
    /// <summary>
    /// Serves WebSocket requests with <paramref name="application"/> (usually a <c>UrlRouter</c> of
    /// consumers, as Django's <c>websocket</c> entry). Pass a <c>ProtocolTypeRouter</c> with an
    /// <c>http</c> entry (directly or under middleware such as an origin validator) to serve HTTP
    /// requests too. Requests it has no route for continue down the pipeline, so MVC, minimal APIs
    /// and static files keep working beside it. Call after <c>UseAuthentication</c> / <c>UseSession</c>
    /// so consumers see the user and the session. When the application stops, open WebSockets are
    /// closed with 1001 and streaming HTTP responses end, so every consumer's disconnect runs.
    /// </summary>
    /// <exception cref="InvalidOperationException">A consumer below <paramref name="application"/> declares its handlers wrongly.</exception>
    public static IApplicationBuilder MapChannels(this IApplicationBuilder app, IChannelApplication application)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(application);
        // Before the WebSocket middleware: a burst of frames to one client leaves in one socket write (CoalescingStream).
        app.Use(CoalescingStream.WrapAsync);
        app.UseWebSockets();
        return app.UseMiddleware<ChannelsMiddleware>(new ChannelApplicationSet(application, ServesHttp(application, new HashSet<IChannelApplication>(ReferenceEqualityComparer.Instance)) ? application : null));
    }

    /// <summary>True when a router that serves <c>http</c> scopes (<see cref="IScopeTypeRouter"/>, as <c>ProtocolTypeRouter</c>) is reachable, directly or through middleware and routers.</summary>
    private static bool ServesHttp(IChannelApplication application, HashSet<IChannelApplication> seen)
    {
        if (!seen.Add(application))
        {
            return false;
        }

        if (application is IScopeTypeRouter router && router.Serves(ChannelScopeType.Http))
        {
            return true;
        }

        return application is INestedChannelApplication nested && nested.Applications.Any(inner => inner is not null && ServesHttp(inner, seen));
    }
}
