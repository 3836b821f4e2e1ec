namespace Channels.Net.Internal;

/// <summary>
/// A small set of names (the groups a channel is in: usually one), held inline: the first name in a field,
/// any others in a list made when a second one arrives. Not thread-safe; a mutable struct, so keep it in a
/// field and call its methods on the field itself.
/// </summary>
internal struct NameSet
{
    private string? _first;
    private List<string>? _more;

    public readonly int Count => (_first is null ? 0 : 1) + (_more?.Count ?? 0);

    public readonly bool Contains(string name) =>
        string.Equals(_first, name, StringComparison.Ordinal) || (_more?.Contains(name) ?? false);

    /// <summary>Adds <paramref name="name"/>; false when it was already there.</summary>
    public bool Add(string name)
    {
        if (Contains(name))
        {
            return false;
        }

        if (_first is null)
        {
            _first = name;
        }
        else
        {
            (_more ??= []).Add(name);
        }

        return true;
    }

    /// <summary>Removes <paramref name="name"/>; false when it was not there.</summary>
    public bool Remove(string name)
    {
        if (string.Equals(_first, name, StringComparison.Ordinal))
        {
            _first = null;
            if (_more is { Count: > 0 })
            {
                _first = _more[^1];
                _more.RemoveAt(_more.Count - 1);
            }
        }
        else if (_more is null || !_more.Remove(name))
        {
            return false;
        }

        if (_more is { Count: 0 })
        {
            _more = null;
        }

        return true;
    }

    public void Clear() => (_first, _more) = (null, null);

    public readonly string[] ToArray()
    {
        if (_first is null)
        {
            return [];
        }

        if (_more is null)
        {
            return [_first];
        }

        return [_first, .. _more];
    }
}
