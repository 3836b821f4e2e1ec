using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// The parts of a <see cref="ChannelScope"/> that come from an ASP.NET Core request and cost memory to hold
/// (headers, cookies, user, endpoints, subprotocols, session, the request's service scope): each is read from
/// the request the first time it is asked for, and kept. <see cref="Keep"/> reads the rest before the request
/// ends, so a scope kept beyond its connection still answers. Until a part is read, nothing but the request is held.
/// </summary>
internal sealed class HttpScopeParts(HttpContext http, IServiceProvider applicationServices, bool webSocket) : ScopeParts
{
    private const int Endpoints = (int)Part.Client; // Client and Server are read together, kept at Client's index.

    private object?[]? _read;
    private bool _kept;

    public override HttpContext HttpContext => http;

    public override IServiceProvider ApplicationServices => applicationServices;

    public override IReadOnlyList<KeyValuePair<string, string>> Headers => (IReadOnlyList<KeyValuePair<string, string>>)Read(Part.Headers)!;

    public override IReadOnlyDictionary<string, string> Cookies => (IReadOnlyDictionary<string, string>)Read(Part.Cookies)!;

    public override IReadOnlyList<string> Subprotocols => (IReadOnlyList<string>)Read(Part.Subprotocols)!;

    public override ClaimsPrincipal User => (ClaimsPrincipal)Read(Part.User)!;

    public override IPEndPoint? Client => ((IPEndPoint?[])Read(Part.Client)!)[0];

    public override IPEndPoint? Server => ((IPEndPoint?[])Read(Part.Server)!)[1];

    public override ISession? Session => ((ISession?[])Read(Part.Session)!)[0];

    /// <summary>The request's service scope, created by ASP.NET Core the first time it is asked for.</summary>
    public override IServiceProvider RequestServices => (IServiceProvider)Read(Part.RequestServices)!;

    /// <summary>Reads every part not read yet (the request is about to end). The request's services are not
    /// created for this: a scope that never used them gets a provider that says the connection is over.</summary>
    public void Keep()
    {
        lock (this)
        {
            _ = Headers;
            _ = Cookies;
            _ = Subprotocols;
            _ = User;
            _ = Client;
            _ = Session;
            _kept = true;
            _ = RequestServices;
        }
    }

    private static IPEndPoint? Endpoint(IPAddress? address, int port) => address is null ? null : new IPEndPoint(address, port);

    /// <summary>Reads a part once, under a lock: the request's collections are not safe to read from two threads at once.</summary>
    private object? Read(Part part)
    {
        var index = part == Part.Server ? Endpoints : (int)part;
        lock (this)
        {
            var read = _read ??= new object?[(int)Part.RequestServices + 1];
            return read[index] ??= part switch
            {
                Part.Headers => ReadHeaders(),
                Part.Cookies => ReadCookies(),
                Part.Subprotocols => ReadSubprotocols(),
                Part.User => http.User,
                Part.Client or Part.Server => new[] { Endpoint(http.Connection.RemoteIpAddress, http.Connection.RemotePort), Endpoint(http.Connection.LocalIpAddress, http.Connection.LocalPort) },
                Part.Session => new[] { http.Features.Get<ISessionFeature>()?.Session },
                _ => _kept ? EndedServices.Instance : http.RequestServices,
            };
        }
    }

    private List<KeyValuePair<string, string>> ReadHeaders()
    {
        var request = http.Request;
        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count);
        foreach (var (name, values) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            foreach (var value in values)
            {
                headers.Add(new(lower, value ?? ""));
            }
        }

        return headers;
    }

    private IReadOnlyList<string> ReadSubprotocols() => webSocket ? [.. http.WebSockets.WebSocketRequestedProtocols] : [];

    private Dictionary<string, string> ReadCookies()
    {
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in http.Request.Cookies)
        {
            cookies[name] = value;
        }

        return cookies;
    }

    /// <summary>Stands for the request's services once the request is over without having created them.</summary>
    private sealed class EndedServices : IServiceProvider
    {
        public static readonly EndedServices Instance = new();

        public object? GetService(Type serviceType) =>
            throw new ObjectDisposedException(nameof(IServiceProvider), "The connection has ended: its request services were disposed with it.");
    }
}
