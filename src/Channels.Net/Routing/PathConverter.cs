using System.Globalization;

namespace Channels.Net.Routing;

/// <summary>
/// One of Django's path converters (<c>django.urls.converters</c>): the regular expression a
/// <c>&lt;type:name&gt;</c> segment of <see cref="Routes.Path"/> matches, and the typed value it gives.
/// </summary>
internal sealed class PathConverter
{
    private static readonly Dictionary<string, PathConverter> Defaults = new(StringComparer.Ordinal)
    {
        ["int"] = new("int", "[0-9]+", static text =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null),
        ["path"] = new("path", ".+", static text => text),
        ["slug"] = new("slug", "[-a-zA-Z0-9_]+", static text => text),
        ["str"] = new("str", "[^/]+", static text => text),
        ["uuid"] = new("uuid", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", static text =>
            Guid.TryParseExact(text, "D", out var value) ? value : null),
    };

    private readonly Func<string, object?> _toValue;

    private PathConverter(string name, string regex, Func<string, object?> toValue)
    {
        Name = name;
        Regex = regex;
        _toValue = toValue;
    }

    /// <summary>The converter's name in a route (<c>int</c>, <c>str</c>, …).</summary>
    public string Name { get; }

    /// <summary>What a segment must match, in .NET syntax.</summary>
    public string Regex { get; }

    /// <summary>The converter named <paramref name="name"/>, when there is one.</summary>
    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PathConverter? converter) =>
        Defaults.TryGetValue(name, out converter);

    /// <summary>
    /// The typed value of <paramref name="text"/> (Django's <c>to_python</c>), or null where Django's
    /// converter raises <c>ValueError</c> (then the route does not match).
    /// </summary>
    public object? ToValue(string text) => _toValue(text);
}
