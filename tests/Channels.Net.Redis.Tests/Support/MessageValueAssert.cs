using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>Deep, type-strict equality of message values: long is not ulong is not double, doubles compare by bits, key order matters.</summary>
internal static class MessageValueAssert
{
    public static void Equal(object? expected, object? actual, string path = "$")
    {
        var difference = FindDifference(expected, actual, path);
        if (difference is not null)
        {
            Assert.Fail(difference);
        }
    }

    public static string? FindDifference(object? expected, object? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null ? null : $"{path}: expected {Show(expected)}, got {Show(actual)}";
        }

        if (expected.GetType() != actual.GetType() && !(expected is MessageMap && actual is MessageMap))
        {
            return $"{path}: expected a {expected.GetType().Name} ({Show(expected)}), got a {actual.GetType().Name} ({Show(actual)})";
        }

        switch (expected)
        {
            case double d:
                return BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits((double)actual) ? null : $"{path}: expected {d:R}, got {(double)actual:R}";
            case ReadOnlyMemory<byte> bytes:
                return bytes.Span.SequenceEqual(((ReadOnlyMemory<byte>)actual).Span)
                    ? null
                    : $"{path}: expected bytes {Values.ToHex(bytes.Span)}, got {Values.ToHex(((ReadOnlyMemory<byte>)actual).Span)}";
            case MessageList list:
            {
                var other = (MessageList)actual;
                if (list.Count != other.Count)
                {
                    return $"{path}: expected a list of {list.Count}, got {other.Count}";
                }

                for (var i = 0; i < list.Count; i++)
                {
                    var difference = FindDifference(list[i], other[i], $"{path}[{i}]");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            }

            case MessageMap map:
            {
                var other = (MessageMap)actual;
                var keys = map.Keys.ToArray();
                var otherKeys = other.Keys.ToArray();
                if (!keys.SequenceEqual(otherKeys, StringComparer.Ordinal))
                {
                    return $"{path}: expected keys [{string.Join(", ", keys)}], got [{string.Join(", ", otherKeys)}]";
                }

                foreach (var key in keys)
                {
                    var difference = FindDifference(map[key], other[key], $"{path}.{key}");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            }

            default:
                return Equals(expected, actual) ? null : $"{path}: expected {Show(expected)}, got {Show(actual)}";
        }
    }

    private static string Show(object? value)
    {
        var text = value switch
        {
            null => "null",
            string s => $"\"{s}\"",
            ReadOnlyMemory<byte> b => $"bytes[{b.Length}]",
            _ => value.ToString() ?? "?",
        };
        return text.Length > 120 ? text[..117] + "..." : text;
    }
}
