using Channels.Net;
using Channels.Net.Hosting.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves a Channels.Net application from an ASP.NET Core pipeline.</summary>
public static class ChannelsApplicationBuilderExtensions
{
    /// <summary>
    /// Serves WebSocket requests with <paramref name="application"/> (usually a <c>URLRouter</c> of
    /// consumers, as Django's <c>websocket</c> entry). Pass a <c>ProtocolTypeRouter</c> to serve HTTP
    /// requests too. Requests it has no route for continue down the pipeline, so MVC, minimal APIs
    /// and static files keep working beside it. Call after <c>UseAuthentication</c> / <c>UseSession</c>
    /// so consumers see the user and the session.
    /// </summary>
    /// <exception cref="InvalidOperationException">A consumer below <paramref name="application"/> declares its handlers wrongly.</exception>
    public static IApplicationBuilder MapChannels(this IApplicationBuilder app, IChannelApplication application)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(application);
        var servesHttp = application is Channels.Net.Routing.ProtocolTypeRouter;
        app.UseWebSockets();
        return app.UseMiddleware<ChannelsMiddleware>(new ChannelApplicationSet(application, servesHttp ? application : null));
    }
}
