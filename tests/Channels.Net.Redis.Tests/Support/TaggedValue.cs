using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>
/// The JSON form in which tests and Python/python_peer.py exchange message values without losing
/// their types: ["nil"], ["bool", b], ["int", "decimal"], ["float", "hex bits"], ["str", "base64 UTF-8"],
/// ["bin", "base64"], ["list", [...]], ["map", [["base64 UTF-8 key", value], ...]].
/// </summary>
internal static class TaggedValue
{
    public static JsonNode ToTagged(object? value) => value switch
    {
        null => new JsonArray("nil"),
        bool b => new JsonArray("bool", b),
        long l => new JsonArray("int", l.ToString(CultureInfo.InvariantCulture)),
        ulong ul => new JsonArray("int", ul.ToString(CultureInfo.InvariantCulture)),
        double d => new JsonArray("float", DoubleHex(d)),
        string s => new JsonArray("str", Convert.ToBase64String(Encoding.UTF8.GetBytes(s))),
        ReadOnlyMemory<byte> bytes => new JsonArray("bin", Convert.ToBase64String(bytes.Span)),
        MessageList list => new JsonArray("list", new JsonArray(list.Select(ToTagged).ToArray())),
        MessageMap map => new JsonArray("map", new JsonArray(map.Select(e => (JsonNode)new JsonArray(Convert.ToBase64String(Encoding.UTF8.GetBytes(e.Key)), ToTagged(e.Value))).ToArray())),
        _ => throw new ArgumentException($"Not a message value: {value.GetType()}", nameof(value)),
    };

    private static string DoubleHex(double value)
    {
        Span<byte> bits = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bits, value);
        return Convert.ToHexStringLower(bits);
    }

    public static object? FromTagged(JsonNode node)
    {
        var array = node.AsArray();
        var kind = array[0]!.GetValue<string>();
        switch (kind)
        {
            case "nil":
                return null;
            case "bool":
                return array[1]!.GetValue<bool>();
            case "int":
            {
                var value = BigInteger.Parse(array[1]!.GetValue<string>(), CultureInfo.InvariantCulture);
                return value <= long.MaxValue ? (long)value : (ulong)value;
            }

            case "float":
                return BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(array[1]!.GetValue<string>())));
            case "str":
                return Encoding.UTF8.GetString(Convert.FromBase64String(array[1]!.GetValue<string>()));
            case "bin":
                return new ReadOnlyMemory<byte>(Convert.FromBase64String(array[1]!.GetValue<string>()));
            case "list":
                return MessageList.Create(array[1]!.AsArray().Select(item => FromTagged(item!)).ToArray());
            case "map":
                return MessageMap.Create(array[1]!.AsArray().Select(entry =>
                    new KeyValuePair<string, object?>(
                        Encoding.UTF8.GetString(Convert.FromBase64String(entry![0]!.GetValue<string>())),
                        FromTagged(entry[1]!))).ToArray());
            default:
                throw new ArgumentException($"Unknown tag {kind}", nameof(node));
        }
    }
}
