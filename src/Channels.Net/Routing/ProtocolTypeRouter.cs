using System.Collections;

namespace Channels.Net.Routing;

/// <summary>
/// Runs the application configured for the connection's <see cref="ChannelScope.Type"/>
/// (Django Channels' <c>ProtocolTypeRouter</c>): <see cref="ChannelScopeType.WebSocket"/>,
/// <see cref="ChannelScopeType.Http"/> or <see cref="ChannelScopeType.Channel"/>.
/// </summary>
/// <remarks>
/// <para>Build it from a dictionary or with a collection initializer:</para>
/// <code>
/// new ProtocolTypeRouter
/// {
///     { ChannelScopeType.WebSocket, new UrlRouter(RePath(@"^ws/chat/(?P&lt;room&gt;[\w-]+)/$", chat)) },
///     { ChannelScopeType.Channel, new ChannelNameRouter { { "thumbnails", thumbnailer } } },
/// }
/// </code>
/// <para>A scope type with no application is rejected with 404 and
/// <c>No application configured for scope type '…'</c>, logged at Information level through the
/// <see cref="Microsoft.Extensions.Logging.ILogger{TCategoryName}"/> of <see cref="ChannelScope.RequestServices"/>.
/// Types compare ordinally. Add every type before the router serves; it is thread-safe from then on.</para>
/// </remarks>
public sealed class ProtocolTypeRouter : IScopeTypeRouter, IEnumerable<KeyValuePair<string, IChannelApplication>>
{
    private readonly ApplicationMap _map = new("scope type");

    /// <summary>Creates an empty router, to fill with <see cref="Add"/> (or a collection initializer).</summary>
    public ProtocolTypeRouter()
    {
    }

    /// <summary>Creates a router from a map of scope type to application (Django's <c>application_mapping</c>).</summary>
    /// <exception cref="ArgumentException">A scope type appears twice.</exception>
    public ProtocolTypeRouter(IEnumerable<KeyValuePair<string, IChannelApplication>> applicationMapping)
    {
        _map.AddRange(applicationMapping, nameof(applicationMapping));
    }

    /// <summary>The application of each scope type.</summary>
    public IReadOnlyDictionary<string, IChannelApplication> ApplicationMapping => _map.View;

    /// <inheritdoc />
    public IEnumerable<IChannelApplication> Applications => _map.View.Values;

    /// <inheritdoc />
    public bool Serves(string scopeType) => _map.View.ContainsKey(scopeType);

    /// <summary>Maps <paramref name="scopeType"/> to <paramref name="application"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="scopeType"/> is already mapped.</exception>
    /// <exception cref="InvalidOperationException">The router already served a connection.</exception>
    public void Add(string scopeType, IChannelApplication application) => _map.Add(scopeType, application, nameof(scopeType));

    /// <summary>
    /// The application for <paramref name="scopeType"/>. Setting adds it, as <see cref="Add"/> does, so a
    /// router reads like Django's dict: <c>new(){ ["websocket"] = app }</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Getting a key that has no application.</exception>
    public IChannelApplication this[string scopeType]
    {
        get => _map.View[scopeType];
        set => Add(scopeType, value);
    }

    /// <inheritdoc />
    /// <remarks>Not an async method: the chosen application's run is returned as it is, so a connection keeps no frame of the router's.</remarks>
    public ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        if (_map.TryGet(scope.Type, out var application))
        {
            return application.RunAsync(scope, session);
        }

        var repr = PythonRepr.Of(scope.Type ?? "");
        if (RoutingLog.For<ProtocolTypeRouter>(scope) is { } logger)
        {
            RoutingLog.NoApplicationForScopeType(logger, repr);
        }

        return session.RejectAsync(404, $"No application configured for scope type {repr}");
    }

    /// <summary>The scope types and their applications.</summary>
    public IEnumerator<KeyValuePair<string, IChannelApplication>> GetEnumerator() => _map.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
