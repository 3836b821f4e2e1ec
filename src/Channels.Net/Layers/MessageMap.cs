using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Channels.Net.Layers;

/// <summary>
/// An immutable, string-keyed map whose values are what a channel layer carries: <c>null</c>,
/// <see cref="bool"/>, <see cref="long"/> (or <see cref="ulong"/> past <see cref="long.MaxValue"/>),
/// <see cref="double"/>, <see cref="string"/>, bytes as <see cref="ReadOnlyMemory{T}"/> of
/// <see cref="byte"/>, <see cref="MessageList"/> and <see cref="MessageMap"/>.
/// </summary>
/// <remarks>
/// Keys keep the order they were given in, so a map written to the wire comes out byte for byte
/// as Python writes the same dict. Being immutable, one instance can be handed to any number of
/// receivers: nothing one of them does is seen by another, and nothing the sender does to the
/// object it built the map from is seen by any.
/// </remarks>
public class MessageMap : IReadOnlyDictionary<string, object?>
{
    private const int IndexThreshold = 8;

    private readonly KeyValuePair<string, object?>[] _entries;
    private Dictionary<string, int>? _index;
    private volatile BoundValue? _bound;

    /// <summary>An empty map.</summary>
    public static MessageMap Empty { get; } = new([]);

    /// <summary>Creates a map from entries that are already normalized values with unique keys.</summary>
    internal MessageMap(KeyValuePair<string, object?>[] entries)
    {
        _entries = entries;
    }

    /// <summary>Builds a map from key/value pairs, converting each value as <see cref="ChannelMessage.From"/> does.</summary>
    /// <exception cref="InvalidChannelMessageException">A key repeats, or a value cannot be carried.</exception>
    public static MessageMap Create(IEnumerable<KeyValuePair<string, object?>> entries, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return MessageValues.NormalizeMap(entries, options ?? ChannelMessage.DefaultSerializerOptions, "", 0);
    }

    /// <summary>The entries in their order.</summary>
    internal ReadOnlySpan<KeyValuePair<string, object?>> Entries => _entries;

    /// <inheritdoc />
    public int Count => _entries.Length;

    /// <inheritdoc />
    public object? this[string key] =>
        TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The message has no key '{key}'.");

    /// <inheritdoc />
    public IEnumerable<string> Keys => _entries.Select(static e => e.Key);

    /// <inheritdoc />
    public IEnumerable<object?> Values => _entries.Select(static e => e.Value);

    /// <inheritdoc />
    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        var i = IndexOf(key);
        if (i < 0)
        {
            value = null;
            return false;
        }

        value = _entries[i].Value;
        return true;
    }

    /// <summary>The string at <paramref name="key"/>, or null when the key is missing or holds no string.</summary>
    public string? GetString(string key) => TryGetValue(key, out var v) ? v as string : null;

    /// <summary>The integer at <paramref name="key"/>, or null when the key is missing or holds no integer that fits a <see cref="long"/>.</summary>
    public long? GetInt64(string key) => TryGetValue(key, out var v) && v is long l ? l : null;

    // The cast below matters: a bare null would convert through byte[] to an empty ReadOnlyMemory, never to null.

    /// <summary>The bytes at <paramref name="key"/>, or null when the key is missing or holds no bytes.</summary>
    public ReadOnlyMemory<byte>? GetBytes(string key) => TryGetValue(key, out var v) && v is ReadOnlyMemory<byte> b ? b : (ReadOnlyMemory<byte>?)null;

    /// <summary>Reads this map bound to <typeparamref name="T"/> with System.Text.Json
    /// (by default snake_case keys match PascalCase properties; bytes bind to <c>byte[]</c>).</summary>
    /// <remarks>With the default options the result is bound once and kept on the message: every
    /// consumer that receives this message instance (all members of one group send in this process)
    /// gets the same object, so a group send binds once rather than once per member. Treat it as
    /// read-only, as records are.</remarks>
    public T To<T>(JsonSerializerOptions? options = null)
    {
        if (this is T self)
        {
            return self;
        }

        if (options is not null && !ReferenceEquals(options, ChannelMessage.DefaultSerializerOptions))
        {
            return MessageJson.Bind<T>(this, options);
        }

        if (_bound is BoundValue { Type: var type, Value: var value } && type == typeof(T))
        {
            return (T)value!;
        }

        var result = MessageJson.Bind<T>(this, ChannelMessage.DefaultSerializerOptions);
        _bound = new BoundValue(typeof(T), result);
        return result;
    }

    /// <summary>Reads this map bound to <paramref name="type"/> with System.Text.Json.</summary>
    public object? To(Type type, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.IsInstanceOfType(this) ? this : MessageJson.Bind(this, type, options ?? ChannelMessage.DefaultSerializerOptions);
    }

    /// <summary>This map as JSON text; bytes are written as base64 strings.</summary>
    public string ToJson() => MessageJson.ToJsonString(this);

    /// <summary>The JSON form of the map, for logs and debugging.</summary>
    public override string ToString() => ToJson();

    /// <summary>Enumerates the entries in their order.</summary>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entries = _entries;
        if (entries.Length <= IndexThreshold)
        {
            for (var i = 0; i < entries.Length; i++)
            {
                if (string.Equals(entries[i].Key, key, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }

        var index = _index ??= BuildIndex(entries);
        return index.TryGetValue(key, out var found) ? found : -1;
    }

    private static Dictionary<string, int> BuildIndex(KeyValuePair<string, object?>[] entries)
    {
        var index = new Dictionary<string, int>(entries.Length, StringComparer.Ordinal);
        for (var i = 0; i < entries.Length; i++)
        {
            index[entries[i].Key] = i;
        }

        return index;
    }

    /// <summary>The last typed binding of this map (type and value).</summary>
    private sealed record BoundValue(Type Type, object? Value);
}
