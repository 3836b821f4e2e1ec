using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Channels.Net.Layers;

/// <summary>Turns arbitrary .NET values into the immutable values a message carries.</summary>
internal static class MessageValues
{
    /// <summary>Maps and lists nested deeper than this are refused (a cycle would otherwise never end).</summary>
    public const int MaxDepth = 64;

    public static object? Normalize(object? value, JsonSerializerOptions options, string path, int depth)
    {
        switch (value)
        {
            case null:
                return null;
            case string or bool or long or double or MessageMap or MessageList:
                return value;
            case int i:
                return (long)i;
            case ulong ul:
                return ul <= long.MaxValue ? (long)ul : ul;
            case uint ui:
                return (long)ui;
            case short s:
                return (long)s;
            case ushort us:
                return (long)us;
            case byte b:
                return (long)b;
            case sbyte sb:
                return (long)sb;
            case float f:
                return (double)f;
            case Half h:
                return (double)h;
            case decimal m:
                // (object) keeps the branches apart: long and double would otherwise unify to double.
                return decimal.Truncate(m) == m && m >= long.MinValue && m <= long.MaxValue ? (object)(long)m : (double)m;
            case char c:
                return c.ToString();
            case byte[] bytes:
                return new ReadOnlyMemory<byte>(bytes.AsSpan().ToArray());
            case ReadOnlyMemory<byte> rom:
                return new ReadOnlyMemory<byte>(rom.ToArray());
            case Memory<byte> mem:
                return new ReadOnlyMemory<byte>(mem.ToArray());
            case ArraySegment<byte> segment:
                return new ReadOnlyMemory<byte>(segment.AsSpan().ToArray());
            case JsonElement element:
                return FromJsonElement(element, path, depth);
            case JsonNode node:
                return FromJsonElement(JsonSerializer.SerializeToElement(node, options), path, depth);
        }

        CheckDepth(path, depth);

        switch (value)
        {
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                return NormalizeMap(pairs, options, path, depth);
            case IDictionary dictionary:
                return NormalizeDictionary(dictionary, options, path, depth);
        }

        var type = value.GetType();
        var info = options.GetTypeInfo(type);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Dictionary when value is IEnumerable enumerable:
                return NormalizeGenericDictionary(enumerable, options, path, depth);
            case JsonTypeInfoKind.Enumerable when value is IEnumerable items:
                return NormalizeList(items, options, path, depth);
            case JsonTypeInfoKind.Object:
                return NormalizeObject(value, info, options, path, depth);
            default:
                // A value System.Text.Json writes as a scalar through a converter (DateTime, Guid, enums, ...):
                // keep what it writes.
                JsonElement written;
                try
                {
                    written = JsonSerializer.SerializeToElement(value, type, options);
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
                {
                    throw new InvalidChannelMessageException($"The value at {ShowPath(path)} ({type}) cannot be carried in a message: {ex.Message}", ex);
                }

                return FromJsonElement(written, path, depth);
        }
    }

    public static MessageMap NormalizeMap(IEnumerable<KeyValuePair<string, object?>> pairs, JsonSerializerOptions options, string path, int depth)
    {
        var entries = new MapEntries(pairs is ICollection<KeyValuePair<string, object?>> collection ? collection.Count : 4);
        foreach (var pair in pairs)
        {
            AddEntry(entries, pair.Key, pair.Value, options, path, depth);
        }

        return new MessageMap(entries.ToArray());
    }

    public static string Describe(object? value) => value switch
    {
        null => "null",
        string => "string",
        bool => "bool",
        long or ulong => "integer",
        double => "float",
        ReadOnlyMemory<byte> => "bytes",
        MessageList => "list",
        MessageMap => "map",
        _ => value.GetType().ToString(),
    };

    private static MessageMap NormalizeDictionary(IDictionary dictionary, JsonSerializerOptions options, string path, int depth)
    {
        var entries = new MapEntries(dictionary.Count);
        foreach (DictionaryEntry entry in dictionary)
        {
            AddEntry(entries, KeyToString(entry.Key, path), entry.Value, options, path, depth);
        }

        return new MessageMap(entries.ToArray());
    }

    private static MessageMap NormalizeGenericDictionary(IEnumerable pairs, JsonSerializerOptions options, string path, int depth)
    {
        var entries = new MapEntries(4);
        foreach (var pair in pairs)
        {
            // KeyValuePair<TKey, TValue> of some TKey/TValue: read it through its two properties.
            var pairType = pair!.GetType();
            var key = pairType.GetProperty("Key")?.GetValue(pair);
            var item = pairType.GetProperty("Value")?.GetValue(pair);
            AddEntry(entries, KeyToString(key, path), item, options, path, depth);
        }

        return new MessageMap(entries.ToArray());
    }

    private static MessageList NormalizeList(IEnumerable items, JsonSerializerOptions options, string path, int depth)
    {
        var list = items is ICollection collection ? new List<object?>(collection.Count) : [];
        var index = 0;
        foreach (var item in items)
        {
            list.Add(Normalize(item, options, $"{path}[{index}]", depth + 1));
            index++;
        }

        return new MessageList(list.ToArray());
    }

    private static MessageMap NormalizeObject(object value, JsonTypeInfo info, JsonSerializerOptions options, string path, int depth)
    {
        var properties = info.Properties;
        var entries = new MapEntries(properties.Count);
        foreach (var property in properties)
        {
            if (property.Get is null || property.IsExtensionData)
            {
                continue;
            }

            var propertyValue = property.Get(value);
            if (property.ShouldSerialize is { } shouldSerialize && !shouldSerialize(value, propertyValue))
            {
                continue;
            }

            AddEntry(entries, property.Name, propertyValue, options, path, depth);
        }

        return new MessageMap(entries.ToArray());
    }

    private static void AddEntry(MapEntries entries, string? key, object? value, JsonSerializerOptions options, string path, int depth)
    {
        if (key is null)
        {
            throw new InvalidChannelMessageException($"A map at {ShowPath(path)} has a null key; keys must be strings.");
        }

        var childPath = path.Length == 0 ? key : $"{path}.{key}";
        if (!entries.TryAdd(key, Normalize(value, options, childPath, depth + 1)))
        {
            throw new InvalidChannelMessageException($"The key '{key}' appears twice in the map at {ShowPath(path)}.");
        }
    }

    private static object? FromJsonElement(JsonElement element, string path, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return null;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var l))
                {
                    return l;
                }

                if (element.TryGetUInt64(out var ul))
                {
                    return ul;
                }

                return element.GetDouble();
            case JsonValueKind.Array:
            {
                CheckDepth(path, depth);
                var items = new object?[element.GetArrayLength()];
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    items[i] = FromJsonElement(item, $"{path}[{i}]", depth + 1);
                    i++;
                }

                return new MessageList(items);
            }

            default:
            {
                CheckDepth(path, depth);
                var entries = new MapEntries(4);
                foreach (var property in element.EnumerateObject())
                {
                    var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (!entries.TryAdd(property.Name, FromJsonElement(property.Value, childPath, depth + 1)))
                    {
                        throw new InvalidChannelMessageException($"The key '{property.Name}' appears twice in the JSON object at {ShowPath(path)}.");
                    }
                }

                return new MessageMap(entries.ToArray());
            }
        }
    }

    private static string KeyToString(object? key, string path) => key switch
    {
        null => throw new InvalidChannelMessageException($"A map at {ShowPath(path)} has a null key; keys must be strings."),
        string s => s,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => key.ToString(),
    } ?? throw new InvalidChannelMessageException($"A map key at {ShowPath(path)} turned into null.");

    private static void CheckDepth(string path, int depth)
    {
        if (depth >= MaxDepth)
        {
            throw new InvalidChannelMessageException(
                $"The message nests maps and lists more than {MaxDepth} levels deep at {ShowPath(path)}; does an object refer to itself?");
        }
    }

    private static string ShowPath(string path) => path.Length == 0 ? "the top level" : $"'{path}'";
}
