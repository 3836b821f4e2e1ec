namespace Channels.Net;

/// <summary>
/// What URL routing captured (Django's <c>scope["url_route"]</c>): positional <see cref="Args"/>
/// from unnamed groups and named <see cref="Kwargs"/>, typed by their path converters
/// (<c>int</c> gives an <see cref="int"/>, <c>uuid</c> a <see cref="Guid"/>, others a <see cref="string"/>).
/// </summary>
public sealed record UrlRoute(IReadOnlyList<object> Args, IReadOnlyDictionary<string, object> Kwargs)
{
    /// <summary>No captures.</summary>
    public static UrlRoute Empty { get; } = new([], new Dictionary<string, object>(StringComparer.Ordinal));
}
