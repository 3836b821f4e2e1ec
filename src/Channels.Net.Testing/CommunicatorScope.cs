namespace Channels.Net.Testing;

/// <summary>Builds the scope a communicator gives its application, as a server would from a request line.</summary>
internal static class CommunicatorScope
{
    /// <summary>A scope for <paramref name="path"/> (which may carry a query string): the path is
    /// percent-decoded, the query string kept as sent, header names lower-cased.</summary>
    public static ChannelScope ForPath(
        string type,
        string scheme,
        string method,
        string path,
        IEnumerable<KeyValuePair<string, string>>? headers,
        IServiceProvider? services,
        IEnumerable<string>? subprotocols = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var query = path.IndexOf('?', StringComparison.Ordinal);
        var rawPath = query < 0 ? path : path[..query];
        var decoded = Uri.UnescapeDataString(rawPath);
        return new ChannelScope
        {
            Type = type,
            Path = decoded,
            RawPath = rawPath,
            PathRemaining = decoded,
            QueryString = query < 0 ? "" : path[(query + 1)..],
            Scheme = scheme,
            Method = method,
            Headers = [.. (headers ?? []).Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value))],
            Subprotocols = [.. subprotocols ?? []],
            RequestServices = services ?? CommunicatorServices.Default,
        };
    }
}
