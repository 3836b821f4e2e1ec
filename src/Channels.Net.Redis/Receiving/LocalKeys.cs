using System.Collections.Concurrent;
using System.Text;
using Channels.Net.Redis.Sharding;

namespace Channels.Net.Redis.Receiving;

/// <summary>
/// This layer's <see cref="LocalKey"/>s by non-local name (<c>{name}.{client}!</c>), found from a span of
/// a channel name without allocating.
/// </summary>
internal sealed class LocalKeys
{
    private readonly ConcurrentDictionary<string, LocalKey> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LocalKey>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly string _prefix;
    private readonly string _marker;
    private readonly byte[] _markerUtf8;
    private readonly int _ringSize;

    /// <param name="prefix">The layer's key prefix.</param>
    /// <param name="clientPrefix">The layer's client prefix: its process-local names hold <c>{clientPrefix}!</c>.</param>
    /// <param name="ringSize">How many hosts the layer shards over.</param>
    public LocalKeys(string prefix, string clientPrefix, int ringSize)
    {
        _prefix = prefix;
        _marker = clientPrefix + "!";
        _markerUtf8 = Encoding.UTF8.GetBytes(_marker);
        _ringSize = ringSize;
        _bySpan = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>True when <paramref name="nonLocalName"/> (a name up to and including its <c>!</c>) is one of this layer's.</summary>
    public bool IsOwn(ReadOnlySpan<char> nonLocalName) => nonLocalName.EndsWith(_marker, StringComparison.Ordinal);

    /// <summary>True when <paramref name="nonLocalName"/>, as UTF-8, is one of this layer's.</summary>
    public bool IsOwn(ReadOnlySpan<byte> nonLocalName) => nonLocalName.EndsWith(_markerUtf8);

    /// <summary>The key of an own non-local name, made on first use.</summary>
    public LocalKey Get(ReadOnlySpan<char> nonLocalName)
    {
        if (_bySpan.TryGetValue(nonLocalName, out var key))
        {
            return key;
        }

        var name = nonLocalName.ToString();
        return _byName.GetOrAdd(name, static (n, keys) => new LocalKey(n, keys._prefix + n, ConsistentHash.Index(n, keys._ringSize)), this);
    }

    /// <summary>The key of an own non-local name given as ASCII bytes (a valid channel name), made on first use.</summary>
    public LocalKey Get(ReadOnlySpan<byte> nonLocalName)
    {
        Span<char> chars = nonLocalName.Length <= 128 ? stackalloc char[nonLocalName.Length] : new char[nonLocalName.Length];
        for (var i = 0; i < nonLocalName.Length; i++)
        {
            chars[i] = (char)nonLocalName[i];
        }

        return Get(chars);
    }
}
