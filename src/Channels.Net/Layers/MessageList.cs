using System.Collections;

namespace Channels.Net.Layers;

/// <summary>An immutable list of message values (see <see cref="MessageMap"/> for what a value may be).</summary>
public sealed class MessageList : IReadOnlyList<object?>
{
    private readonly object?[] _items;

    /// <summary>An empty list.</summary>
    public static MessageList Empty { get; } = new([]);

    internal MessageList(object?[] items)
    {
        _items = items;
    }

    /// <summary>Builds a list, converting each item as <see cref="ChannelMessage.From"/> does.</summary>
    public static MessageList Create(IEnumerable<object?> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return (MessageList)MessageValues.Normalize(items, ChannelMessage.DefaultSerializerOptions, "", 0)!;
    }

    internal ReadOnlySpan<object?> Items => _items;

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <inheritdoc />
    public object? this[int index] => _items[index];

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <summary>The JSON form of the list, for logs and debugging.</summary>
    public override string ToString() => MessageJson.ToJsonString(this);
}
