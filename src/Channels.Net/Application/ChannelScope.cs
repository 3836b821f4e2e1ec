using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Channels.Net;

/// <summary>
/// Everything known about a connection before any message: Django's <c>scope</c>. Immutable;
/// routers and middleware hand a changed copy (<c>scope with { ... }</c>) to the application they run.
/// </summary>
public sealed record ChannelScope
{
    /// <summary><see cref="ChannelScopeType.WebSocket"/>, <see cref="ChannelScopeType.Http"/> or <see cref="ChannelScopeType.Channel"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The decoded request path, starting with <c>/</c> (empty for a channel scope).</summary>
    public string Path { get; init; } = "";

    /// <summary>The path as it arrived on the wire, still percent-encoded.</summary>
    public string RawPath { get; init; } = "";

    /// <summary>
    /// The part of <see cref="Path"/> routers have not matched yet, without its leading <c>/</c>
    /// (Django's <c>path_remaining</c>); the whole path before the first router.
    /// </summary>
    public string PathRemaining { get; init; } = "";

    /// <summary>The query string without the <c>?</c>, still percent-encoded.</summary>
    public string QueryString { get; init; } = "";

    /// <summary>The scheme: <c>ws</c>, <c>wss</c>, <c>http</c> or <c>https</c>.</summary>
    public string Scheme { get; init; } = "";

    /// <summary>The HTTP method (for <see cref="ChannelScopeType.Http"/>; <c>GET</c> for a WebSocket).</summary>
    public string Method { get; init; } = "";

    /// <summary>The request headers, names in lower case, in the order the server reports them (Kestrel lists
    /// the headers it knows first); a repeated header appears once per value.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The remote end of the connection, when known.</summary>
    public IPEndPoint? Client { get; init; }

    /// <summary>The local end of the connection, when known.</summary>
    public IPEndPoint? Server { get; init; }

    /// <summary>The subprotocols the WebSocket client offered, in its order.</summary>
    public IReadOnlyList<string> Subprotocols { get; init; } = [];

    /// <summary>What URL routing captured.</summary>
    public UrlRoute UrlRoute { get; init; } = UrlRoute.Empty;

    /// <summary>The authenticated user from ASP.NET Core authentication (an anonymous principal when none).</summary>
    public ClaimsPrincipal User { get; init; } = new(new ClaimsIdentity());

    /// <summary>The request's cookies.</summary>
    public IReadOnlyDictionary<string, string> Cookies { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The ASP.NET Core session, when the application uses sessions (<c>app.UseSession()</c>).</summary>
    public ISession? Session { get; init; }

    /// <summary>The services of this connection (scoped services live as long as the connection).</summary>
    public required IServiceProvider RequestServices { get; init; }

    /// <summary>The underlying <see cref="Microsoft.AspNetCore.Http.HttpContext"/>, when served by ASP.NET Core (null in tests and workers).</summary>
    public HttpContext? HttpContext { get; init; }

    /// <summary>For a <see cref="ChannelScopeType.Channel"/> scope, the channel being served.</summary>
    public string? Channel { get; init; }

    /// <summary>Free-form values that middleware adds for the applications it wraps.</summary>
    public IReadOnlyDictionary<string, object?> Items { get; init; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? GetHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var header in Headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }
}
