namespace Channels.Net.Layers;

/// <summary>
/// Send methods that take any object and turn it into a <see cref="ChannelMessage"/> first, so
/// <c>layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 7 })</c> reads as the Python does.
/// </summary>
public static class ChannelLayerMessageExtensions
{
    /// <summary>Sends <paramref name="message"/> (an anonymous object, record or dictionary) to <paramref name="channel"/>.</summary>
    /// <exception cref="InvalidChannelMessageException">The object is not a valid message.</exception>
    public static ValueTask SendAsync(this IChannelLayer layer, string channel, object message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return layer.SendAsync(channel, ChannelMessage.From(message), cancellationToken);
    }

    /// <summary>Sends <paramref name="message"/> (an anonymous object, record or dictionary) to every member of <paramref name="group"/>.</summary>
    /// <exception cref="InvalidChannelMessageException">The object is not a valid message.</exception>
    public static ValueTask GroupSendAsync(this IChannelLayer layer, string group, object message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return layer.GroupSendAsync(group, ChannelMessage.From(message), cancellationToken);
    }
}
