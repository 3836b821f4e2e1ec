using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>Builds a <see cref="ChannelScope"/> from an ASP.NET Core request.</summary>
internal static class ScopeFactory
{
    /// <summary>
    /// The scope of <paramref name="http"/>. Path, query, scheme and method are read now; headers, cookies,
    /// user, endpoints, subprotocols, session and the request's services when first read (see <see cref="HttpScopeParts"/>).
    /// </summary>
    public static ChannelScope Create(HttpContext http, string type, HttpScopeParts parts)
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
        var isWebSocket = type == ChannelScopeType.WebSocket;
        return new ChannelScope(type, parts)
        {
            Path = path,
            RawPath = query < 0 ? rawTarget : rawTarget[..query],
            PathRemaining = path,
            QueryString = request.QueryString.HasValue ? request.QueryString.Value![1..] : "",
            Scheme = isWebSocket ? (request.IsHttps ? "wss" : "ws") : request.Scheme,
            Method = request.Method,
        };
    }
}
