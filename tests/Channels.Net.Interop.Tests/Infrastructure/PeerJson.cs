using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Channels.Net.Layers;

namespace Channels.Net.Interop.Tests.Infrastructure;

/// <summary>
/// The tagged JSON that carries message values between the tests and the Python peer
/// (python/peer.py) without rounding or retyping anything JSON would blur.
/// </summary>
/// <remarks>
/// <c>null</c>/<c>true</c>/<c>false</c>, strings and arrays are plain JSON; everything else is a
/// one-key object: <c>{"$int": "decimal"}</c> (any width, so 2^64-1 and -2^63 are exact),
/// <c>{"$float": "16 hex digits"}</c> (the IEEE-754 bits, so -0.0, NaN and infinities are exact),
/// <c>{"$bytes": "base64"}</c>, and maps as <c>{"$map": [["key", value], ...]}</c> (order kept).
/// </remarks>
public static class PeerJson
{
    /// <summary>A message value (<see cref="MessageMap"/> and its values) as tagged JSON.</summary>
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        long l => Tag("$int", l.ToString(CultureInfo.InvariantCulture)),
        ulong ul => Tag("$int", ul.ToString(CultureInfo.InvariantCulture)),
        double d => Tag("$float", BitConverter.DoubleToUInt64Bits(d).ToString("x16", CultureInfo.InvariantCulture)),
        ReadOnlyMemory<byte> bytes => Tag("$bytes", Convert.ToBase64String(bytes.Span)),
        byte[] bytes => Tag("$bytes", Convert.ToBase64String(bytes)),
        MessageList list => new JsonArray([.. list.Select(ToNode)]),
        MessageMap map => Tag("$map", new JsonArray([.. map.Select(e => (JsonNode)new JsonArray(JsonValue.Create(e.Key), ToNode(e.Value)))])),
        _ => throw new ArgumentException($"{value.GetType()} is not a message value.", nameof(value)),
    };

    /// <summary>Tagged JSON as a message value.</summary>
    public static object? FromElement(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Array:
                return MessageList.Create([.. element.EnumerateArray().Select(FromElement)]);
            case JsonValueKind.Object:
                var properties = element.EnumerateObject().ToArray();
                if (properties.Length == 1)
                {
                    var body = properties[0].Value;
                    switch (properties[0].Name)
                    {
                        case "$int":
                            var integer = BigInteger.Parse(body.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                            return integer >= long.MinValue && integer <= long.MaxValue ? (long)integer
                                : integer > long.MaxValue && integer <= ulong.MaxValue ? (object)(ulong)integer
                                : throw new FormatException($"The integer {integer} does not fit 64 bits; no message value holds it.");
                        case "$float":
                            return BitConverter.UInt64BitsToDouble(ulong.Parse(body.GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                        case "$bytes":
                            return new ReadOnlyMemory<byte>(Convert.FromBase64String(body.GetString()!));
                        case "$map":
                            return MapFromElement(body);
                    }
                }

                throw new FormatException($"Untagged JSON object from the peer: {element.GetRawText()}");
            default:
                throw new FormatException($"Untagged JSON {element.ValueKind} from the peer: {element.GetRawText()}");
        }
    }

    /// <summary>Tagged JSON that must hold a map.</summary>
    public static MessageMap ToMap(JsonElement element) =>
        FromElement(element) as MessageMap ?? throw new FormatException($"Expected a tagged map from the peer, got {element.GetRawText()}");

    /// <summary>Tagged JSON that must hold bytes.</summary>
    public static byte[] ToBytes(JsonElement element) =>
        FromElement(element) is ReadOnlyMemory<byte> bytes ? bytes.ToArray() : throw new FormatException($"Expected tagged bytes from the peer, got {element.GetRawText()}");

    private static MessageMap MapFromElement(JsonElement body)
    {
        var entries = new List<KeyValuePair<string, object?>>();
        foreach (var pair in body.EnumerateArray())
        {
            entries.Add(new(pair[0].GetString()!, FromElement(pair[1])));
        }

        return MessageMap.Create(entries);
    }

    private static JsonObject Tag(string tag, JsonNode body) => new() { [tag] = body };

    private static JsonObject Tag(string tag, string body) => new() { [tag] = body };
}
