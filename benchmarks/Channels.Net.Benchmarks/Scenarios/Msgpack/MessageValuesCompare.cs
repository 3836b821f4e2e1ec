using Channels.Net.Layers;

namespace Channels.Net.Benchmarks.Scenarios.Msgpack;

/// <summary>Structural equality of message values: same types, doubles by their bits, bytes by content, maps in order.</summary>
public static class MessageValuesCompare
{
    public static bool Same(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (double x, double y):
                return BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y);
            case (ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y):
                return x.Span.SequenceEqual(y.Span);
            case (string[] x, string[] y):
                return x.AsSpan().SequenceEqual(y);
            case (MessageList x, MessageList y):
            {
                if (x.Count != y.Count)
                {
                    return false;
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (!Same(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            }

            case (MessageMap x, MessageMap y):
            {
                if (x.Count != y.Count || x.GetType() != y.GetType())
                {
                    return false;
                }

                var xs = x.Entries;
                var ys = y.Entries;
                for (var i = 0; i < xs.Length; i++)
                {
                    if (xs[i].Key != ys[i].Key || !Same(xs[i].Value, ys[i].Value))
                    {
                        return false;
                    }
                }

                return true;
            }

            default:
                return a is not null && b is not null && a.GetType() == b.GetType() && a.Equals(b);
        }
    }
}
