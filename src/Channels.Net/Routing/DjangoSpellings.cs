using System.ComponentModel;

namespace Channels.Net.Routing;

/// <summary>Django's spelling of <see cref="UrlRouter"/>, kept so code ported as written still compiles.</summary>
/// <param name="routes">The routes, tried in order.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class URLRouter(params IEnumerable<UrlPattern> routes) : UrlRouter(routes);
