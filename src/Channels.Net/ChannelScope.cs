using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Channels.Net;

/// <summary>
/// Everything known about a connection before any message: Django's <c>scope</c>. Immutable;
/// routers and middleware hand a changed copy (<c>scope with { ... }</c>) to the application they run.
/// </summary>
/// <remarks>
/// For a connection served by ASP.NET Core, <see cref="Headers"/>, <see cref="Cookies"/>, <see cref="User"/>,
/// <see cref="Client"/>, <see cref="Server"/>, <see cref="Subprotocols"/>, <see cref="Session"/> and
/// <see cref="RequestServices"/> are read from the request the first time they are read (and kept), so a
/// connection whose consumer never looks at them does not pay for them; copies made with <c>with</c> share
/// what was read. When the request ends, whatever was not read yet is read then, so the values stay
/// available after the connection.
/// </remarks>
public sealed record ChannelScope
{
    // Headers, Cookies, User, Client, Server, Subprotocols, Session, RequestServices and HttpContext: read from
    // the request when first read (served by ASP.NET Core), or set on the scope; shared by copies.
    private readonly ScopeParts _parts;

    /// <summary>Creates a scope; set at least <see cref="Type"/> and <see cref="RequestServices"/>.</summary>
    public ChannelScope()
    {
        _parts = ScopeParts.Default();
    }

    /// <summary>A scope whose request parts are read from <paramref name="parts"/> when first read.</summary>
    [SetsRequiredMembers]
#pragma warning disable CS8618 // RequestServices is not set: parts answer it.
    internal ChannelScope(string type, ScopeParts parts)
#pragma warning restore CS8618
    {
        Type = type;
        _parts = parts;
    }

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
    public IReadOnlyList<KeyValuePair<string, string>> Headers
    {
        get => _parts.Headers;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.Headers, value);
    }

    /// <summary>The remote end of the connection, when known.</summary>
    public IPEndPoint? Client
    {
        get => _parts.Client;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.Client, value);
    }

    /// <summary>The local end of the connection, when known.</summary>
    public IPEndPoint? Server
    {
        get => _parts.Server;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.Server, value);
    }

    /// <summary>The subprotocols the WebSocket client offered, in its order.</summary>
    public IReadOnlyList<string> Subprotocols
    {
        get => _parts.Subprotocols;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.Subprotocols, value);
    }

    /// <summary>What URL routing captured.</summary>
    public UrlRoute UrlRoute { get; init; } = UrlRoute.Empty;

    /// <summary>The authenticated user from ASP.NET Core authentication (an anonymous principal when none).</summary>
    public ClaimsPrincipal User
    {
        get => _parts.User;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.User, value);
    }

    /// <summary>The request's cookies.</summary>
    public IReadOnlyDictionary<string, string> Cookies
    {
        get => _parts.Cookies;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.Cookies, value);
    }

    /// <summary>The ASP.NET Core session, when the application uses sessions (<c>app.UseSession()</c>).</summary>
    public ISession? Session
    {
        get => _parts.Session;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.Session, value);
    }

    /// <summary>The services of this connection (scoped services live as long as the connection).</summary>
    public required IServiceProvider RequestServices
    {
        get => _parts.RequestServices;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.RequestServices, value);
    }

    /// <summary>The underlying <see cref="Microsoft.AspNetCore.Http.HttpContext"/>, when served by ASP.NET Core (null in tests and workers).</summary>
    public HttpContext? HttpContext
    {
        get => _parts.HttpContext;
        init => _parts = ScopeParts.With(_parts, ScopeParts.Part.HttpContext, value);
    }

    /// <summary>For a <see cref="ChannelScopeType.Channel"/> scope, the channel being served.</summary>
    public string? Channel { get; init; }

    /// <summary>Free-form values that middleware adds for the applications it wraps.</summary>
    public IReadOnlyDictionary<string, object?> Items { get; init; } = ReadOnlyDictionary<string, object?>.Empty;

    /// <summary>Set by a <see cref="Routing.UrlRouter"/> on the scopes it routes, so a router further in
    /// (behind middleware) routes <see cref="PathRemaining"/> (Django tests for the <c>path_remaining</c> key).</summary>
    internal bool Routed { get; init; }

    /// <summary>Singleton services (logging, the channel layers) without creating the request's service scope:
    /// the application's root services when served by ASP.NET Core, else <see cref="RequestServices"/>.</summary>
    internal IServiceProvider ApplicationServices => _parts.ApplicationServices;

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
