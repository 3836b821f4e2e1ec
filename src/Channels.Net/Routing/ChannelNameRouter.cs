using System.Collections;

namespace Channels.Net.Routing;

/// <summary>
/// Runs the application configured for the scope's <see cref="ChannelScope.Channel"/>
/// (Django Channels' <c>ChannelNameRouter</c>, for worker channels).
/// </summary>
/// <remarks>
/// <para>Build it from a dictionary or with a collection initializer:
/// <c>new ChannelNameRouter { { "thumbnails-generate", generator }, { "thumbnails-delete", deleter } }</c>.</para>
/// <para>A channel with no application is rejected with 404 and
/// <c>No application configured for channel name '…'</c>, logged at Information level through the
/// <see cref="Microsoft.Extensions.Logging.ILogger{TCategoryName}"/> of <see cref="ChannelScope.RequestServices"/>;
/// a scope without a channel (the router was put in front of WebSocket or HTTP connections) is
/// rejected with 404 and logged as a warning. Names compare ordinally. Add every channel before the
/// router serves; it is thread-safe from then on.</para>
/// </remarks>
public sealed class ChannelNameRouter : IChannelNameRouter, IEnumerable<KeyValuePair<string, IChannelApplication>>
{
    private const string NoChannelReason =
        "ChannelNameRouter got a scope without a 'channel' key. Did you make sure it's only being used for 'channel' type messages?";

    private readonly ApplicationMap _map = new("channel name");

    /// <summary>Creates an empty router, to fill with <see cref="Add"/> (or a collection initializer).</summary>
    public ChannelNameRouter()
    {
    }

    /// <summary>Creates a router from a map of channel name to application (Django's <c>application_mapping</c>).</summary>
    /// <exception cref="ArgumentException">A channel name appears twice.</exception>
    public ChannelNameRouter(IEnumerable<KeyValuePair<string, IChannelApplication>> applicationMapping)
    {
        _map.AddRange(applicationMapping, nameof(applicationMapping));
    }

    /// <summary>The application of each channel name.</summary>
    public IReadOnlyDictionary<string, IChannelApplication> ApplicationMapping => _map.View;

    /// <inheritdoc />
    public IEnumerable<IChannelApplication> Applications => _map.View.Values;

    /// <inheritdoc />
    public IReadOnlyCollection<string> ChannelNames => [.. _map.View.Keys];

    /// <inheritdoc />
    public bool Serves(string channel) => _map.View.ContainsKey(channel);

    /// <summary>Maps <paramref name="channel"/> to <paramref name="application"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is already mapped.</exception>
    /// <exception cref="InvalidOperationException">The router already served a channel.</exception>
    public void Add(string channel, IChannelApplication application) => _map.Add(channel, application, nameof(channel));

    /// <summary>
    /// The application for <paramref name="channel"/>. Setting adds it, as <see cref="Add"/> does, so a
    /// router reads like Django's dict: <c>new(){ ["thumbnails"] = app }</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Getting a key that has no application.</exception>
    public IChannelApplication this[string channel]
    {
        get => _map.View[channel];
        set => Add(channel, value);
    }

    /// <inheritdoc />
    public async ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        if (_map.TryGet(scope.Channel, out var application))
        {
            await application.RunAsync(scope, session).ConfigureAwait(false);
            return;
        }

        var logger = RoutingLog.For<ChannelNameRouter>(scope);
        if (scope.Channel is null)
        {
            if (logger is not null)
            {
                RoutingLog.ScopeWithoutChannel(logger);
            }

            await session.RejectAsync(404, NoChannelReason).ConfigureAwait(false);
            return;
        }

        var repr = PythonRepr.Of(scope.Channel);
        if (logger is not null)
        {
            RoutingLog.NoApplicationForChannel(logger, repr);
        }

        await session.RejectAsync(404, $"No application configured for channel name {repr}").ConfigureAwait(false);
    }

    /// <summary>The channel names and their applications.</summary>
    public IEnumerator<KeyValuePair<string, IChannelApplication>> GetEnumerator() => _map.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
