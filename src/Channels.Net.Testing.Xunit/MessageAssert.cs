using System.Globalization;
using Channels.Net.Layers;
using Xunit.Sdk;

namespace Channels.Net.Testing.Conformance;

/// <summary>
/// Deep, exact comparison of message values: same kinds (a <see cref="long"/> is not a
/// <see cref="double"/>), same keys in the same order, bytes compared byte for byte, doubles
/// compared bit for bit (so <c>-0.0</c> differs from <c>0.0</c>) except that every NaN equals every NaN.
/// </summary>
public static class MessageAssert
{
    /// <summary>Fails unless <paramref name="actual"/> holds exactly the keys and values of <paramref name="expected"/>, in order.</summary>
    /// <exception cref="XunitException">The maps differ; the message names the first difference by its path.</exception>
    public static void Equal(MessageMap expected, MessageMap? actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (actual is null)
        {
            throw new XunitException($"Expected the message {Show(expected)} but got null.");
        }

        var difference = FindDifference(expected, actual, "");
        if (difference is not null)
        {
            throw new XunitException($"Messages differ at {difference}.{Environment.NewLine}Expected: {Show(expected)}{Environment.NewLine}Actual:   {Show(actual)}");
        }
    }

    /// <summary>Fails unless <paramref name="actual"/> is exactly <paramref name="expected"/> as a message value.</summary>
    /// <exception cref="XunitException">The values differ.</exception>
    public static void EqualValue(object? expected, object? actual)
    {
        var difference = FindDifference(expected, actual, "");
        if (difference is not null)
        {
            throw new XunitException($"Values differ at {difference}.");
        }
    }

    /// <summary>Describes the first difference between two message values, or returns null when they are equal.</summary>
    public static string? FindDifference(object? expected, object? actual, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var where = path.Length == 0 ? "the top level" : $"'{path}'";
        switch (expected)
        {
            case null:
                return actual is null ? null : $"{where}: expected null, got {Describe(actual)}";
            case double e:
                if (actual is not double a)
                {
                    return $"{where}: expected {Describe(expected)}, got {Describe(actual)}";
                }

                return (double.IsNaN(e) && double.IsNaN(a)) || BitConverter.DoubleToInt64Bits(e) == BitConverter.DoubleToInt64Bits(a)
                    ? null
                    : $"{where}: expected {Describe(expected)}, got {Describe(actual)}";
            case ReadOnlyMemory<byte> e:
                if (actual is not ReadOnlyMemory<byte> bytes)
                {
                    return $"{where}: expected {Describe(expected)}, got {Describe(actual)}";
                }

                if (e.Length != bytes.Length)
                {
                    return $"{where}: expected {e.Length} bytes, got {bytes.Length} bytes";
                }

                var index = e.Span.CommonPrefixLength(bytes.Span);
                return index == e.Length ? null : $"{where}: bytes differ first at offset {index} (expected 0x{e.Span[index]:X2}, got 0x{bytes.Span[index]:X2})";
            case MessageList e:
            {
                if (actual is not MessageList list)
                {
                    return $"{where}: expected a list, got {Describe(actual)}";
                }

                if (e.Count != list.Count)
                {
                    return $"{where}: expected a list of {e.Count} item(s), got {list.Count}";
                }

                for (var i = 0; i < e.Count; i++)
                {
                    var difference = FindDifference(e[i], list[i], $"{path}[{i}]");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            }

            case MessageMap e:
            {
                if (actual is not MessageMap map)
                {
                    return $"{where}: expected a map, got {Describe(actual)}";
                }

                var expectedKeys = e.Keys.ToArray();
                var actualKeys = map.Keys.ToArray();
                if (!expectedKeys.SequenceEqual(actualKeys, StringComparer.Ordinal))
                {
                    return $"{where}: expected the keys [{string.Join(", ", expectedKeys)}], got [{string.Join(", ", actualKeys)}]";
                }

                foreach (var key in expectedKeys)
                {
                    var difference = FindDifference(e[key], map[key], path.Length == 0 ? key : $"{path}.{key}");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            }

            default:
                // string, bool, long, ulong: same type and same value.
                return actual is not null && actual.GetType() == expected.GetType() && expected.Equals(actual)
                    ? null
                    : $"{where}: expected {Describe(expected)}, got {Describe(actual)}";
        }
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => s.Length > 60 ? $"a string of {s.Length} chars" : $"string \"{s}\"",
        double d => $"double {d.ToString("R", CultureInfo.InvariantCulture)}",
        ReadOnlyMemory<byte> b => $"{b.Length} bytes",
        MessageList l => $"a list of {l.Count} item(s)",
        MessageMap m => $"a map of {m.Count} key(s)",
        IFormattable f => $"{value.GetType().Name} {f.ToString(null, CultureInfo.InvariantCulture)}",
        _ => $"{value.GetType().Name} {value}",
    };

    private static string Show(MessageMap map)
    {
        var json = map.ToJson();
        return json.Length > 500 ? json[..500] + "..." : json;
    }
}
