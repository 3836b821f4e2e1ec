namespace Channels.Net;

/// <summary>One piece of a request body (ASGI <c>http.request</c>); <see cref="MoreBody"/> is false on the last.</summary>
public readonly record struct HttpBodyChunk(ReadOnlyMemory<byte> Body, bool MoreBody);

/// <summary>The server side of one HTTP request (ASGI's <c>http</c> protocol).</summary>
public interface IHttpSession : IChannelSession
{
    /// <summary>The next piece of the request body; the last has <see cref="HttpBodyChunk.MoreBody"/> false.</summary>
    /// <exception cref="OperationCanceledException">The client went away (<see cref="IChannelSession.Aborted"/>).</exception>
    ValueTask<HttpBodyChunk> ReceiveBodyAsync(CancellationToken cancellationToken = default);

    /// <summary>True once the response status and headers were sent.</summary>
    bool HasStarted { get; }

    /// <summary>Starts the response (ASGI <c>http.response.start</c>).</summary>
    ValueTask StartResponseAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default);

    /// <summary>Sends part of the response body (ASGI <c>http.response.body</c>); with
    /// <paramref name="moreBody"/> false the response is complete.</summary>
    ValueTask SendBodyAsync(ReadOnlyMemory<byte> body, bool moreBody = false, CancellationToken cancellationToken = default);
}
