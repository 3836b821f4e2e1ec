namespace Channels.Net;

/// <summary>
/// An application that runs other applications (a router, a middleware). Hosting walks these at
/// start-up to check every consumer below them before the first connection arrives.
/// </summary>
public interface INestedChannelApplication : IChannelApplication
{
    /// <summary>The applications this one may run.</summary>
    IEnumerable<IChannelApplication> Applications { get; }
}
