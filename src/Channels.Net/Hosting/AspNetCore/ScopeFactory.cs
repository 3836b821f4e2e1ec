using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>Builds a <see cref="ChannelScope"/> from an ASP.NET Core request.</summary>
internal static class ScopeFactory
{
    public static ChannelScope Create(HttpContext http, string type)
    {
        var request = http.Request;
        var path = request.PathBase.Add(request.Path).Value ?? "/";
        var rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget) || rawTarget[0] != '/')
        {
            // Absolute-form ("GET http://host/path") or no raw target: rebuild the encoded path.
            rawTarget = request.PathBase.Add(request.Path).ToUriComponent();
        }

        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count);
        foreach (var (name, values) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            foreach (var value in values)
            {
                headers.Add(new(lower, value ?? ""));
            }
        }

        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Cookies)
        {
            cookies[name] = value;
        }

        var isWebSocket = type == ChannelScopeType.WebSocket;
        return new ChannelScope
        {
            Type = type,
            Path = path,
            RawPath = query < 0 ? rawTarget : rawTarget[..query],
            PathRemaining = path,
            QueryString = request.QueryString.HasValue ? request.QueryString.Value![1..] : "",
            Scheme = isWebSocket ? (request.IsHttps ? "wss" : "ws") : request.Scheme,
            Method = request.Method,
            Headers = headers,
            Client = Endpoint(http.Connection.RemoteIpAddress, http.Connection.RemotePort),
            Server = Endpoint(http.Connection.LocalIpAddress, http.Connection.LocalPort),
            Subprotocols = isWebSocket ? [.. http.WebSockets.WebSocketRequestedProtocols] : [],
            User = http.User,
            Cookies = cookies,
            Session = http.Features.Get<ISessionFeature>()?.Session,
            RequestServices = http.RequestServices,
            HttpContext = http,
        };
    }

    private static IPEndPoint? Endpoint(IPAddress? address, int port) => address is null ? null : new IPEndPoint(address, port);
}
