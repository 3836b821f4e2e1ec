namespace Channels.Net;

/// <summary>
/// An application that serves messages of some channel names and refuses the others (what <c>ChannelNameRouter</c>
/// does). A channel worker asks it at start-up whether every channel it receives on reaches an application, so a
/// misspelt name stops the host with a clear message instead of refusing every message later.
/// </summary>
public interface IChannelNameRouter : INestedChannelApplication
{
    /// <summary>The channel names that reach an application.</summary>
    IReadOnlyCollection<string> ChannelNames { get; }

    /// <summary>True when messages on <paramref name="channel"/> reach an application.</summary>
    bool Serves(string channel);
}
