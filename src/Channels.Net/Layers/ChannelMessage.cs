using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Channels.Net.Layers;

/// <summary>
/// A message as it travels over a channel layer: an immutable <see cref="MessageMap"/> with a
/// string <c>type</c> and without the reserved <c>__asgi_channel__</c> key.
/// </summary>
/// <example>
/// <code>
/// var message = ChannelMessage.From(new { type = "chat.message", message = "hello" });
/// record ChatMessage(string Type, string Message);
/// var typed = message.To&lt;ChatMessage&gt;();
/// </code>
/// </example>
public sealed class ChannelMessage : MessageMap
{
    /// <summary>
    /// The options used to turn objects into messages and messages into records: snake_case
    /// property names (<c>UserId</c> is <c>user_id</c>, as a Django peer writes it), case-insensitive
    /// binding, and NaN / Infinity allowed.
    /// </summary>
    public static JsonSerializerOptions DefaultSerializerOptions { get; } = CreateDefaultOptions();

    internal ChannelMessage(KeyValuePair<string, object?>[] entries, string type)
        : base(entries)
    {
        Type = type;
    }

    /// <summary>The message's <c>type</c>, which picks the handler that receives it.</summary>
    public string Type { get; }

    /// <summary>
    /// Builds a message from an anonymous object, a record or class, a dictionary, a
    /// <see cref="JsonElement"/> or a <see cref="System.Text.Json.Nodes.JsonNode"/>. Values are
    /// copied deeply, so changing <paramref name="value"/> afterwards changes nothing in the message.
    /// </summary>
    /// <param name="value">The object to read.</param>
    /// <param name="options">System.Text.Json options that name properties; <see cref="DefaultSerializerOptions"/> when null.</param>
    /// <exception cref="InvalidChannelMessageException">The object has no string <c>type</c>, uses
    /// <c>__asgi_channel__</c>, or holds a value a message cannot carry.</exception>
    public static ChannelMessage From(object value, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value is ChannelMessage message)
        {
            return message;
        }

        var normalized = MessageValues.Normalize(value, options ?? DefaultSerializerOptions, "", 0);
        if (normalized is not MessageMap map)
        {
            throw new InvalidChannelMessageException(
                $"A message must be a map with a string 'type', but a {value.GetType()} becomes a {MessageValues.Describe(normalized)}.");
        }

        return FromMap(map);
    }

    /// <summary>Builds a message of <paramref name="type"/> with further fields.</summary>
    public static ChannelMessage Create(string type, IEnumerable<KeyValuePair<string, object?>>? fields = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        var all = new List<KeyValuePair<string, object?>> { new("type", type) };
        if (fields is not null)
        {
            all.AddRange(fields);
        }

        return FromMap(MessageMap.Create(all));
    }

    /// <summary>Parses a JSON object into a message.</summary>
    public static ChannelMessage FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = JsonDocument.Parse(json);
        return From(document.RootElement);
    }

    /// <summary>Checks the message rules on a map and makes it a message (no copy).</summary>
    /// <exception cref="InvalidChannelMessageException">The map breaks a message rule.</exception>
    public static ChannelMessage FromMap(MessageMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map is ChannelMessage message)
        {
            return message;
        }

        if (!map.TryGetValue("type", out var type))
        {
            throw new InvalidChannelMessageException("A message must have a 'type' key holding a string; this one has no 'type'.");
        }

        if (type is not string typeName)
        {
            throw new InvalidChannelMessageException(
                $"A message's 'type' must be a string; this one is a {MessageValues.Describe(type)}.");
        }

        if (map.ContainsKey(ChannelNames.ReservedMessageKey))
        {
            throw new InvalidChannelMessageException(
                $"A message must not use the key '{ChannelNames.ReservedMessageKey}': channel layers reserve it for routing.");
        }

        return new ChannelMessage(map.Entries.ToArray(), typeName);
    }

    /// <summary>A copy of this message with <paramref name="key"/> set to <paramref name="value"/> (added last when new).</summary>
    public ChannelMessage With(string key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var normalized = MessageValues.Normalize(value, DefaultSerializerOptions, key, 1);
        var entries = Entries;
        var copy = new List<KeyValuePair<string, object?>>(entries.Length + 1);
        var replaced = false;
        foreach (var entry in entries)
        {
            if (string.Equals(entry.Key, key, StringComparison.Ordinal))
            {
                copy.Add(new(key, normalized));
                replaced = true;
            }
            else
            {
                copy.Add(entry);
            }
        }

        if (!replaced)
        {
            copy.Add(new(key, normalized));
        }

        return FromMap(new MessageMap(copy.ToArray()));
    }

    /// <summary>
    /// Makes a message from entries a trusted decoder produced (normalized values, unique keys,
    /// a string type, no reserved key). Used by wire codecs; performs no copy and no checks.
    /// </summary>
    internal static ChannelMessage CreateTrusted(KeyValuePair<string, object?>[] entries, string type) => new(entries, type);

    private static JsonSerializerOptions CreateDefaultOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            PropertyNameCaseInsensitive = true,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}
