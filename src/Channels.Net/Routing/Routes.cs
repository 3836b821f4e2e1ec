namespace Channels.Net.Routing;

/// <summary>
/// The route factories of a <see cref="UrlRouter"/>: Django's <c>path()</c> and <c>re_path()</c>.
/// </summary>
/// <remarks>
/// <para>Import them with <c>using static Channels.Net.Routing.Routes;</c> and a Django routing file
/// ports by copy and paste:</para>
/// <code>
/// app.MapChannels(new UrlRouter(
///     RePath(@"^ws/chat/(?P&lt;room&gt;[\w-]+)/$", Consumer&lt;ChatConsumer&gt;())));
/// </code>
/// <para><b>Name collision with <see cref="System.IO.Path"/>.</b> Implicit usings (on by default in
/// the .NET SDK) import <c>System.IO</c> into every file. A bare <c>Path("ws/", app)</c> still
/// compiles, because the compiler prefers the invocable method for a call, but in a file with
/// <c>using static Channels.Net.Routing.Routes;</c> the class <see cref="System.IO.Path"/> is hidden:
/// <c>Path.Combine(...)</c> there fails with CS0119 (<c>'Routes.Path(...)' is a method, which is not
/// valid in the given context</c>). Fixes, any one of them: write <c>System.IO.Path.Combine(...)</c>
/// in that file, or alias it (<c>using IOPath = System.IO.Path;</c>); keep the routing table in a
/// file of its own; or skip <c>using static</c> and write <c>Routes.Path(...)</c> and
/// <c>Routes.RePath(...)</c>, which always work. A project-wide <c>global using static</c> of this
/// class hides <see cref="System.IO.Path"/> in every file, so prefer the per-file directive.</para>
/// </remarks>
public static class Routes
{
    /// <summary>
    /// A route in Django's <c>path()</c> syntax: literal text and <c>&lt;converter:name&gt;</c>
    /// segments, matched from the start of the path (after its leading <c>/</c>). The whole path must
    /// match, unless <paramref name="application"/> is a <see cref="UrlRouter"/>, which then routes the
    /// rest. Converters: <c>str</c> (the default, <c>[^/]+</c>), <c>int</c> (<c>[0-9]+</c>, an
    /// <see cref="int"/>), <c>slug</c> (<c>[-a-zA-Z0-9_]+</c>), <c>uuid</c> (lower-case
    /// 8-4-4-4-12 hex, a <see cref="Guid"/>) and <c>path</c> (<c>.+</c>, slashes included).
    /// </summary>
    /// <param name="route">The route, for example <c>"ws/rooms/&lt;int:id&gt;/"</c>.</param>
    /// <param name="application">The application to run when the route matches.</param>
    /// <param name="kwargs">Extra values for <see cref="UrlRoute.Kwargs"/>; they override captured values of the same name.</param>
    /// <param name="name">The route's name (informational).</param>
    /// <exception cref="ArgumentException">The route names an unknown converter, a parameter that is not an
    /// identifier or is used twice, or has whitespace inside <c>&lt;…&gt;</c>; the message names the route.</exception>
    /// <remarks>Imported with <c>using static</c>, this method hides <see cref="System.IO.Path"/> in the file: see <see cref="Routes"/>.</remarks>
    public static UrlPattern Path(string route, IChannelApplication application, IReadOnlyDictionary<string, object>? kwargs = null, string? name = null) =>
        UrlPattern.ForRoute(route, application, kwargs, name);

    /// <summary>
    /// A route as a regular expression (Django's <c>re_path()</c>), in Python syntax
    /// (<c>(?P&lt;name&gt;…)</c>, <c>(?P=name)</c>, <c>\Z</c>) or .NET syntax. It is searched for
    /// anywhere in the path (after its leading <c>/</c>), so anchor it with <c>^</c>. A pattern that ends
    /// with <c>$</c> and leads to an endpoint (anything but a <see cref="UrlRouter"/>) must match the
    /// whole path. Named groups become <see cref="UrlRoute.Kwargs"/> (strings) and then unnamed groups
    /// are ignored; without named groups, the groups become <see cref="UrlRoute.Args"/>.
    /// </summary>
    /// <param name="regex">The regular expression, for example <c>@"^ws/chat/(?P&lt;room&gt;[\w-]+)/$"</c>.</param>
    /// <param name="application">The application to run when the pattern matches.</param>
    /// <param name="kwargs">Extra values for <see cref="UrlRoute.Kwargs"/>; they override captured values of the same name.</param>
    /// <param name="name">The route's name (informational).</param>
    /// <exception cref="ArgumentException">The regular expression is not valid; the message names it.</exception>
    public static UrlPattern RePath(string regex, IChannelApplication application, IReadOnlyDictionary<string, object>? kwargs = null, string? name = null) =>
        UrlPattern.ForRegex(regex, application, kwargs, name);
}
