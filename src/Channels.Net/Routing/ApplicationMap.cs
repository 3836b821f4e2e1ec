using System.Collections;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace Channels.Net.Routing;

/// <summary>
/// The name-to-application map behind <see cref="ProtocolTypeRouter"/> and <see cref="ChannelNameRouter"/>:
/// filled while the router is built, read-only once it served its first connection.
/// </summary>
internal sealed class ApplicationMap : IEnumerable<KeyValuePair<string, IChannelApplication>>
{
    private readonly Dictionary<string, IChannelApplication> _map = new(StringComparer.Ordinal);
    private readonly string _keyName;
    private volatile bool _sealed;

    public ApplicationMap(string keyName)
    {
        _keyName = keyName;
        View = new ReadOnlyDictionary<string, IChannelApplication>(_map);
    }

    public IReadOnlyDictionary<string, IChannelApplication> View { get; }

    public void Add(string key, IChannelApplication application, string paramName)
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        ArgumentNullException.ThrowIfNull(application, paramName);
        if (_sealed)
        {
            throw new InvalidOperationException($"Add every {_keyName} before the router serves its first connection.");
        }

        if (!_map.TryAdd(key, application))
        {
            throw new ArgumentException($"The {_keyName} {PythonRepr.Of(key)} is mapped twice.", paramName);
        }
    }

    public void AddRange(IEnumerable<KeyValuePair<string, IChannelApplication>> applications, string paramName)
    {
        ArgumentNullException.ThrowIfNull(applications, paramName);
        foreach (var (key, application) in applications)
        {
            Add(key, application, paramName);
        }
    }

    /// <summary>Looks <paramref name="key"/> up (null finds nothing); from the first look-up on, the map is read-only.</summary>
    public bool TryGet(string? key, [NotNullWhen(true)] out IChannelApplication? application)
    {
        _sealed = true;
        if (key is null)
        {
            application = null;
            return false;
        }

        return _map.TryGetValue(key, out application);
    }

    public IEnumerator<KeyValuePair<string, IChannelApplication>> GetEnumerator() => _map.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
