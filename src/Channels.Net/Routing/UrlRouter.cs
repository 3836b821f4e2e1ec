using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Routing;

/// <summary>
/// Routes a connection by its path to the first matching route (Django Channels' <c>URLRouter</c>).
/// Build it from <see cref="Routes.Path"/> and <see cref="Routes.RePath"/>.
/// </summary>
/// <remarks>
/// <para>The outermost router routes <see cref="ChannelScope.Path"/>, a router reached through another
/// routes <see cref="ChannelScope.PathRemaining"/>; either without leading <c>/</c>. The application runs
/// with <see cref="ChannelScope.PathRemaining"/> set to what follows the match and
/// <see cref="ChannelScope.UrlRoute"/> holding the outer captures merged with this route's (args
/// appended, kwargs overriding, then the route's default kwargs overriding those).</para>
/// <para>A route to another <see cref="UrlRouter"/> matches a prefix, and when the nested router has no
/// route for the rest the search goes on with the next route, as in Django. When no route matches, the
/// connection is rejected with 404 and <c>No route found for path '…'.</c>, logged at Information level
/// through the <see cref="ILogger{TCategoryName}"/> of <see cref="ChannelScope.RequestServices"/>.</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
public class UrlRouter : INestedChannelApplication
{
    private readonly UrlPattern[] _routes;

    /// <summary>Creates a router trying <paramref name="routes"/> in order.</summary>
    /// <exception cref="ArgumentException">A route is null.</exception>
    public UrlRouter(params IEnumerable<UrlPattern> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        _routes = [.. routes];
        if (Array.IndexOf(_routes, null) >= 0)
        {
            throw new ArgumentException("A route is null.", nameof(routes));
        }

        Routes = _routes.AsReadOnly();
    }

    /// <summary>The routes, in the order they are tried.</summary>
    public IReadOnlyList<UrlPattern> Routes { get; }

    /// <inheritdoc />
    public IEnumerable<IChannelApplication> Applications => _routes.Select(static route => route.Application);

    /// <inheritdoc />
    /// <remarks>Not an async method: the routed application's run is returned as it is, so a connection keeps
    /// no frame of the router's (nor the scope it was given) while it lasts.</remarks>
    public ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        var path = ((scope.Routed ? scope.PathRemaining : scope.Path) ?? "").TrimStart('/');
        if (TryResolve(scope, path, out var application, out var routed))
        {
            return application.RunAsync(routed, session);
        }

        var repr = PythonRepr.Of(path);
        if (RoutingLog.For<UrlRouter>(scope) is { } logger)
        {
            RoutingLog.NoRouteFound(logger, scope.Type == ChannelScopeType.Http ? LogLevel.Debug : LogLevel.Information, repr);
        }

        return session.RejectAsync(404, $"No route found for path {repr}.");
    }

    /// <summary>
    /// Finds the application for <paramref name="path"/> (already without leading <c>/</c>), going
    /// through nested routers, and the scope to run it with (marked <see cref="ChannelScope.Routed"/>).
    /// </summary>
    internal bool TryResolve(ChannelScope scope, string path, [NotNullWhen(true)] out IChannelApplication? application, [NotNullWhen(true)] out ChannelScope? routed)
    {
        foreach (var route in _routes)
        {
            if (!route.TryMatch(path, out var remaining, out var args, out var kwargs))
            {
                continue;
            }

            var next = scope with
            {
                PathRemaining = remaining,
                UrlRoute = Merge(scope.UrlRoute, args, kwargs, route.DefaultKwargs),
                Routed = true,
            };
            if (route.Application is UrlRouter inner)
            {
                // Django: the nested router's Resolver404 is caught and the next route is tried.
                if (inner.TryResolve(next, remaining.TrimStart('/'), out application, out routed))
                {
                    return true;
                }

                continue;
            }

            application = route.Application;
            routed = next;
            return true;
        }

        application = null;
        routed = null;
        return false;
    }

    /// <summary>The outer captures with this route's: args appended, kwargs overriding, then the route's default kwargs overriding those.</summary>
    private static UrlRoute Merge(UrlRoute outer, object[] args, RouteKwargs kwargs, IReadOnlyDictionary<string, object> defaults)
    {
        if (args.Length == 0 && kwargs.Count == 0 && defaults.Count == 0)
        {
            return outer;
        }

        IReadOnlyList<object> mergedArgs = args.Length == 0 ? outer.Args
            : outer.Args.Count == 0 ? Array.AsReadOnly(args)
            : Array.AsReadOnly([.. outer.Args, .. args]);
        var mergedKwargs = outer.Kwargs.Count == 0 && defaults.Count == 0 ? kwargs : RouteKwargs.Merge(outer.Kwargs, kwargs, defaults);
        return new UrlRoute(mergedArgs, mergedKwargs);
    }
}
