using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Channels.Net;

/// <summary>
/// What URL routing captured (Django's <c>scope["url_route"]</c>): positional <see cref="Args"/>
/// from unnamed groups and named <see cref="Kwargs"/>, typed by their path converters
/// (<c>int</c> gives an <see cref="int"/>, <c>uuid</c> a <see cref="Guid"/>, others a <see cref="string"/>).
/// </summary>
/// <remarks>
/// Read a value with <see cref="Get{T}(string)"/> (<c>Scope.UrlRoute.Get&lt;int&gt;("page")</c>) or
/// <see cref="TryGet{T}(string, out T)"/>: a captured value is given as is when it already has the type asked for,
/// and converted otherwise (a <c>re_path</c> group's text to a number, a <see cref="Guid"/>, a <see cref="bool"/>; an
/// <see cref="int"/> to a <see cref="long"/>), with the invariant culture. <see cref="Kwargs"/> stays for code ported
/// from Django (<c>self.scope["url_route"]["kwargs"]["room"]</c>).
/// </remarks>
public sealed record UrlRoute(IReadOnlyList<object> Args, IReadOnlyDictionary<string, object> Kwargs)
{
    /// <summary>No captures.</summary>
    public static UrlRoute Empty { get; } = new([], new Dictionary<string, object>(StringComparer.Ordinal));

    /// <summary>The named value <paramref name="name"/> as a <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">The route captured no value of that name (the message lists those it did).</exception>
    /// <exception cref="FormatException">The value cannot be read as a <typeparamref name="T"/>.</exception>
    public T Get<T>(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Kwargs.TryGetValue(name, out var value))
        {
            throw new KeyNotFoundException(
                $"The route captured no value named '{name}' (it captured: {(Kwargs.Count == 0 ? "none" : string.Join(", ", Kwargs.Keys.Order(StringComparer.Ordinal)))}).");
        }

        return TryConvert<T>(value, out var converted)
            ? converted
            : throw new FormatException($"The route's value '{name}' ({Show(value)}) cannot be read as {typeof(T).Name}.");
    }

    /// <summary>The positional value at <paramref name="index"/> (an unnamed group) as a <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The route captured fewer positional values.</exception>
    /// <exception cref="FormatException">The value cannot be read as a <typeparamref name="T"/>.</exception>
    public T Get<T>(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Args.Count);
        return TryConvert<T>(Args[index], out var converted)
            ? converted
            : throw new FormatException($"The route's positional value {index} ({Show(Args[index])}) cannot be read as {typeof(T).Name}.");
    }

    /// <summary>The named value <paramref name="name"/> as a <typeparamref name="T"/>, when the route captured it and it
    /// can be read as one.</summary>
    public bool TryGet<T>(string name, [MaybeNullWhen(false)] out T value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Kwargs.TryGetValue(name, out var captured))
        {
            return TryConvert(captured, out value);
        }

        value = default;
        return false;
    }

    private static bool TryConvert<T>(object value, [MaybeNullWhen(false)] out T converted)
    {
        if (value is T same)
        {
            converted = same;
            return true;
        }

        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        try
        {
            if (target == typeof(Guid) && value is string text)
            {
                var parsed = Guid.TryParse(text, out var guid);
                converted = parsed ? (T)(object)guid : default;
                return parsed;
            }

            if (target == typeof(string))
            {
                converted = (T)(object)Convert.ToString(value, CultureInfo.InvariantCulture)!;
                return true;
            }

            if (value is IConvertible && typeof(IConvertible).IsAssignableFrom(target))
            {
                converted = (T)Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
                return true;
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
        }

        converted = default;
        return false;
    }

    private static string Show(object value) => $"{value.GetType().Name} '{Convert.ToString(value, CultureInfo.InvariantCulture)}'";
}
