namespace Channels.Net.Security;

/// <summary>
/// Lets a WebSocket through to <see cref="Application"/> only when its <c>Origin</c> header matches
/// one of <see cref="AllowedOrigins"/>, and refuses the handshake with HTTP 403 otherwise: Django
/// Channels' <c>channels.security.websocket.OriginValidator</c>, which guards against cross-site
/// WebSocket hijacking.
/// </summary>
/// <remarks>
/// <para>A pattern is one of:</para>
/// <list type="bullet">
/// <item><c>*</c>: every origin, and a request without an Origin header.</item>
/// <item>A host: <c>example.com</c>, <c>127.0.0.1</c>, <c>[::1]</c>; the origin's host must be the
/// same (letter case aside), with any scheme and any port.</item>
/// <item><c>.example.com</c>: example.com and all its subdomains, any scheme and port.</item>
/// <item><c>*.example.com</c>: the subdomains of example.com but not example.com itself (ASP.NET
/// Core's <c>AllowedHosts</c> syntax; Django has no such pattern).</item>
/// <item><c>scheme://host[:port]</c>, the host written as above: scheme, host and port must all
/// match, a missing port standing for the scheme's default (80 for http and ws, 443 for https and
/// wss), so <c>https://example.com</c> allows <c>https://example.com:443</c> and nothing on 8443.</item>
/// </list>
/// <para>Without <c>*</c>, a request is refused when it has no Origin header, more than one, or one
/// that is <c>null</c> (sent by sandboxed frames and <c>file:</c> pages), empty, or malformed. Only
/// WebSocket scopes are guarded; HTTP and channel scopes run <see cref="Application"/> unchecked.
/// A refusal calls <see cref="IChannelSession.RejectAsync"/> with 403 before the handshake is
/// accepted and logs the origin at Information level (category
/// <c>Channels.Net.Security.OriginValidator</c>); <see cref="Application"/> never sees the connection.</para>
/// </remarks>
/// <example>
/// <code>
/// app.MapChannels(new OriginValidator(
///     new UrlRouter(RePath(@"^ws/chat/(?P&lt;room&gt;\w+)/$", Consumer&lt;ChatConsumer&gt;())),
///     ["https://chat.example.com", ".example.org"]));
/// </code>
/// </example>
public sealed class OriginValidator : INestedChannelApplication
{
    private readonly AllowedOrigins _allowed;
    private readonly IChannelApplication[] _applications;

    /// <summary>Wraps <paramref name="application"/> so it only sees WebSockets from <paramref name="allowedOrigins"/>.</summary>
    /// <param name="application">The application to run for an allowed origin.</param>
    /// <param name="allowedOrigins">The allowed origin patterns (see the remarks); empty refuses every WebSocket.</param>
    /// <exception cref="ArgumentException">A pattern is null or can never match: empty, a port without a
    /// scheme (<c>example.com:8000</c>; write <c>http://example.com:8000</c> or <c>example.com</c>), a scheme
    /// without a host, a malformed IPv6 literal or port, an invalid international domain name.</exception>
    public OriginValidator(IChannelApplication application, IEnumerable<string> allowedOrigins)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(allowedOrigins);
        Application = application;
        _applications = [application];
        _allowed = Security.AllowedOrigins.Create(allowedOrigins, nameof(allowedOrigins));
    }

    /// <summary>The application that serves allowed connections.</summary>
    public IChannelApplication Application { get; }

    /// <summary>The allowed origin patterns, as given.</summary>
    public IReadOnlyList<string> AllowedOrigins => _allowed.Patterns;

    /// <inheritdoc />
    public IEnumerable<IChannelApplication> Applications => _applications;

    /// <summary>
    /// True when a request whose single Origin header is <paramref name="origin"/> would be let
    /// through (null: a request without one). Django's <c>valid_origin</c>.
    /// </summary>
    public bool IsAllowed(string? origin) => _allowed.IsAllowed(origin);

    /// <summary>
    /// Runs <see cref="Application"/> with the same scope and session when the scope is not a
    /// WebSocket or its origin is allowed; otherwise refuses the handshake with 403.
    /// </summary>
    public ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        return OriginGuard.Guards(scope)
            ? OriginGuard.RunAsync(_allowed, Application, scope, session)
            : Application.RunAsync(scope, session);
    }
}
