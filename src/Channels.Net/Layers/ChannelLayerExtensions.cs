namespace Channels.Net.Layers;

/// <summary>The optional parts of the channel-layer contract (Django's <c>extensions</c>).</summary>
[Flags]
public enum ChannelLayerExtensions
{
    /// <summary>Only send, receive and new channel.</summary>
    None = 0,

    /// <summary><c>group_add</c>, <c>group_discard</c> and <c>group_send</c>.</summary>
    Groups = 1,

    /// <summary><c>flush</c>.</summary>
    Flush = 2,
}
