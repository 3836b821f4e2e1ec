using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>Short ways to build message values in tests.</summary>
internal static class Values
{
    public static MessageMap Map(params (string Key, object? Value)[] entries) =>
        MessageMap.Create(entries.Select(static e => new KeyValuePair<string, object?>(e.Key, e.Value)));

    public static ChannelMessage Message(string type, params (string Key, object? Value)[] entries) =>
        ChannelMessage.Create(type, entries.Select(static e => new KeyValuePair<string, object?>(e.Key, e.Value)));

    public static MessageList List(params object?[] items) => MessageList.Create(items);

    public static ReadOnlyMemory<byte> Bytes(params byte[] bytes) => bytes;

    /// <summary>A list nested <paramref name="levels"/> deep around <paramref name="inner"/> (built bottom-up, so no depth check runs).</summary>
    public static object? NestedLists(int levels, object? inner)
    {
        var value = inner;
        for (var i = 0; i < levels; i++)
        {
            value = MessageList.Create([value]);
        }

        return value;
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
