using System.Text;

namespace Channels.Net.Testing;

/// <summary>What an HTTP application did, as an <see cref="HttpCommunicator"/> observes it.</summary>
public enum HttpOutputKind
{
    /// <summary>It started the response: status and headers (ASGI <c>http.response.start</c>).</summary>
    Start,

    /// <summary>It sent part of the body (ASGI <c>http.response.body</c>); the last part has <see cref="HttpOutput.MoreBody"/> false.</summary>
    Body,

    /// <summary>It aborted a response it had started (a server resets the connection): the client gets no complete response.</summary>
    Abort,
}

/// <summary>
/// One action of an HTTP application: the response start (<see cref="Status"/>, <see cref="Headers"/>),
/// a body part (<see cref="Body"/>, <see cref="MoreBody"/>), or an abort.
/// </summary>
/// <param name="Kind">What the application did.</param>
/// <param name="Status">The status code of a <see cref="HttpOutputKind.Start"/>; 0 otherwise.</param>
/// <param name="Headers">The headers of a <see cref="HttpOutputKind.Start"/>, as the application gave them; empty otherwise.</param>
/// <param name="Body">The bytes of a <see cref="HttpOutputKind.Body"/>; empty otherwise.</param>
/// <param name="MoreBody">For a <see cref="HttpOutputKind.Body"/>, true when more parts follow.</param>
/// <param name="Reason">Why the application refused or aborted the request (<see cref="IChannelSession.RejectAsync"/>), when it did.</param>
public sealed record HttpOutput(
    HttpOutputKind Kind,
    int Status = 0,
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    byte[]? Body = null,
    bool MoreBody = false,
    string? Reason = null)
{
    /// <summary>The body part decoded as UTF-8.</summary>
    public string Text => Encoding.UTF8.GetString(Body ?? []);

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? GetHeader(string name) => HttpCommunicatorResponse.FindHeader(Headers ?? [], name);
}

/// <summary>A whole response, as <see cref="HttpCommunicator.GetResponseAsync"/> returns it (Django's
/// <c>{"status": ..., "headers": [...], "body": b"..."}</c>).</summary>
/// <param name="Status">The status code.</param>
/// <param name="Headers">The headers, as the application gave them.</param>
/// <param name="Body">Every body part, concatenated.</param>
public sealed record HttpCommunicatorResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    /// <summary>The body decoded as UTF-8.</summary>
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? GetHeader(string name) => FindHeader(Headers, name);

    internal static string? FindHeader(IReadOnlyList<KeyValuePair<string, string>> headers, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var header in headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }
}
