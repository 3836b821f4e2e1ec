using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Channels.Net.Routing;

/// <summary>
/// The kwargs a route captured (<see cref="UrlRoute.Kwargs"/>): an immutable map over one small array, in
/// the order the names were first set. Routes capture a handful of names, so a lookup compares them in turn;
/// a connection keeps one of these for as long as it lasts, at a fraction of a dictionary's size.
/// </summary>
internal sealed class RouteKwargs : IReadOnlyDictionary<string, object>
{
    public static readonly RouteKwargs Empty = new([]);

    private readonly KeyValuePair<string, object>[] _entries;

    private RouteKwargs(KeyValuePair<string, object>[] entries)
    {
        _entries = entries;
    }

    public int Count => _entries.Length;

    public IEnumerable<string> Keys => _entries.Select(static e => e.Key);

    public IEnumerable<object> Values => _entries.Select(static e => e.Value);

    public object this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The route captured no kwarg named '{key}'.");

    /// <summary>Takes <paramref name="entries"/> as they are: their keys must be distinct.</summary>
    public static RouteKwargs Of(KeyValuePair<string, object>[] entries) => entries.Length == 0 ? Empty : new(entries);

    /// <summary><paramref name="outer"/>, then <paramref name="captured"/> and <paramref name="defaults"/>, each overriding the names before it.</summary>
    public static RouteKwargs Merge(IReadOnlyDictionary<string, object> outer, RouteKwargs captured, IReadOnlyDictionary<string, object> defaults)
    {
        var merged = new List<KeyValuePair<string, object>>(outer.Count + captured.Count + defaults.Count);
        foreach (var entry in outer)
        {
            Set(merged, entry);
        }

        foreach (var entry in captured._entries)
        {
            Set(merged, entry);
        }

        foreach (var entry in defaults)
        {
            Set(merged, entry);
        }

        return Of([.. merged]);
    }

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value)
    {
        var index = IndexOf(key);
        if (index < 0)
        {
            value = null;
            return false;
        }

        value = _entries[index].Value;
        return true;
    }

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void Set(List<KeyValuePair<string, object>> entries, KeyValuePair<string, object> entry)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (string.Equals(entries[i].Key, entry.Key, StringComparison.Ordinal))
            {
                entries[i] = entry;
                return;
            }
        }

        entries.Add(entry);
    }

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (var i = 0; i < _entries.Length; i++)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
