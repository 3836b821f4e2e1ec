namespace Channels.Net;

/// <summary>
/// An application that serves one connection (a WebSocket, an HTTP request) or one named channel:
/// Channels.Net's ASGI application. Consumers, routers and middleware are all applications, so
/// they nest: a router picks an application by path and runs it with a narrower scope.
/// </summary>
public interface IChannelApplication
{
    /// <summary>
    /// Serves the connection described by <paramref name="scope"/> through <paramref name="session"/>,
    /// returning when the application is done with it.
    /// </summary>
    ValueTask RunAsync(ChannelScope scope, IChannelSession session);
}
