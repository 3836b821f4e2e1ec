using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>Random message values from a seeded generator, favouring the encodings' boundaries.</summary>
internal static class RandomValues
{
    private static readonly long[] BoundaryIntegers =
    [
        0, 1, 127, 128, 255, 256, 65535, 65536, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue,
        -1, -32, -33, -128, -129, short.MinValue, short.MinValue - 1, int.MinValue, (long)int.MinValue - 1, long.MinValue,
    ];

    private static readonly int[] BoundaryLengths = [0, 1, 15, 16, 31, 32, 33, 255, 256];

    public static ChannelMessage Message(Random random, int maxDepth = 4)
    {
        var count = random.Next(0, 6);
        var entries = new List<KeyValuePair<string, object?>>();
        for (var i = 0; i < count; i++)
        {
            entries.Add(new($"k{i}_{Text(random, random.Next(0, 5))}", Value(random, maxDepth)));
        }

        return ChannelMessage.Create(Text(random, random.Next(1, 20)), entries);
    }

    public static object? Value(Random random, int depth)
    {
        var kind = random.Next(depth > 0 ? 12 : 10);
        return kind switch
        {
            0 => null,
            1 => random.Next(2) == 0,
            2 => BoundaryIntegers[random.Next(BoundaryIntegers.Length)] + random.Next(-1, 2) switch { var d when d != 0 && random.Next(4) == 0 => d, _ => 0 },
            3 => random.NextInt64(long.MinValue, long.MaxValue),
            4 => random.Next(8) == 0 ? (object)((ulong)long.MaxValue + (ulong)random.NextInt64(1, long.MaxValue)) : (long)random.Next(-40, 300),
            5 => random.NextDouble() * Math.Pow(10, random.Next(-20, 20)) * (random.Next(2) == 0 ? -1 : 1),
            6 or 7 => Text(random, Length(random)),
            8 or 9 => new ReadOnlyMemory<byte>(RandomBytes(random, Length(random))),
            10 => MessageList.Create(Enumerable.Range(0, random.Next(0, 18)).Select(_ => Value(random, depth - 1)).ToArray()),
            _ => MessageMap.Create(Enumerable.Range(0, random.Next(0, 18)).Select(i => new KeyValuePair<string, object?>($"m{i}_{Text(random, random.Next(0, 3))}", Value(random, depth - 1))).ToArray()),
        };
    }

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static int Length(Random random) =>
        random.Next(4) == 0 ? BoundaryLengths[random.Next(BoundaryLengths.Length)] : random.Next(0, 40);

    private static string Text(Random random, int length)
    {
        const string alphabet = "abcxyz019._-!é你😀 ";
        var builder = new System.Text.StringBuilder(length);
        while (builder.Length < length)
        {
            var at = random.Next(alphabet.Length);
            if (char.IsHighSurrogate(alphabet[at]))
            {
                builder.Append(alphabet, at, 2);
            }
            else if (!char.IsLowSurrogate(alphabet[at]))
            {
                builder.Append(alphabet[at]);
            }
        }

        return builder.ToString();
    }
}
