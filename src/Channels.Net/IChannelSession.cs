namespace Channels.Net;

/// <summary>
/// The server side of one connection as an application sees it. The protocol-specific interfaces
/// (<see cref="IWebSocketSession"/>, <see cref="IHttpSession"/>, <see cref="IWorkerSession"/>)
/// add the events and actions of their protocol.
/// </summary>
public interface IChannelSession
{
    /// <summary>Cancelled when the connection is gone (the client left, the server is stopping).</summary>
    CancellationToken Aborted { get; }

    /// <summary>
    /// Refuses the connection before the application accepted it: the WebSocket handshake or the
    /// HTTP request is answered with <paramref name="statusCode"/> (403 for a refused origin, 404
    /// when no route matches). After a WebSocket was accepted, closes it instead.
    /// </summary>
    ValueTask RejectAsync(int statusCode, string reason);
}
