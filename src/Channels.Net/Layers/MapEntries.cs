namespace Channels.Net.Layers;

/// <summary>
/// The entries of a map being built, in order, refusing a repeated key: a scan while the map is
/// small, a hash set once it grows, so building a map of n keys stays O(n).
/// </summary>
internal sealed class MapEntries(int capacity)
{
    private const int HashFrom = 16;
    private readonly List<KeyValuePair<string, object?>> _entries = new(capacity);
    private HashSet<string>? _keys;

    /// <summary>Adds the entry; false (and nothing added) when <paramref name="key"/> is already there.</summary>
    public bool TryAdd(string key, object? value)
    {
        if (_keys is not null)
        {
            if (!_keys.Add(key))
            {
                return false;
            }
        }
        else
        {
            foreach (var existing in _entries)
            {
                if (string.Equals(existing.Key, key, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            if (_entries.Count + 1 >= HashFrom)
            {
                _keys = new HashSet<string>(_entries.Count * 2, StringComparer.Ordinal) { key };
                foreach (var existing in _entries)
                {
                    _keys.Add(existing.Key);
                }
            }
        }

        _entries.Add(new(key, value));
        return true;
    }

    public KeyValuePair<string, object?>[] ToArray() => _entries.ToArray();
}
