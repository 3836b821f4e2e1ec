using Channels.Net.Layers;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// A message read from the wire, and the channel(s) channels_redis named in its reserved
/// <c>__asgi_channel__</c> key (which is no longer in <see cref="Message"/>).
/// </summary>
/// <param name="Message">The message, without <c>__asgi_channel__</c>.</param>
/// <param name="AsgiChannel">
/// Null when the message had no <c>__asgi_channel__</c> (a send to a plain channel); a
/// <see cref="string"/> for a send to one process-local channel; an
/// <see cref="IReadOnlyList{T}"/> of <see cref="string"/> (a <c>string[]</c>) for a group send,
/// which names every member channel that lives under the same Redis key.
/// </param>
internal readonly record struct DecodedMessage(ChannelMessage Message, object? AsgiChannel)
{
    /// <summary>The channel names in <see cref="AsgiChannel"/>: none, one, or the group send's list.</summary>
    public IReadOnlyList<string> TargetChannels => AsgiChannel switch
    {
        null => [],
        string one => [one],
        IReadOnlyList<string> many => many,
        _ => throw new InvalidOperationException("AsgiChannel holds neither a string nor a list of strings."),
    };
}
