namespace Channels.Net.Layers;

/// <summary>
/// Thrown by <see cref="IChannelLayer.SendAsync"/> when the channel already holds as many
/// messages as its capacity allows (Django's <c>ChannelFull</c>). The message was not sent.
/// </summary>
public sealed class ChannelFullException : Exception
{
    /// <summary>Creates the exception for <paramref name="channel"/> at <paramref name="capacity"/>.</summary>
    public ChannelFullException(string channel, int capacity)
        : base($"Channel '{channel}' is full: it holds {capacity} message(s), its capacity.")
    {
        Channel = channel;
        Capacity = capacity;
    }

    /// <summary>The channel that is full.</summary>
    public string Channel { get; }

    /// <summary>The capacity that was reached.</summary>
    public int Capacity { get; }
}
