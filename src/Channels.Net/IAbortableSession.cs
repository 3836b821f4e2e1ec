namespace Channels.Net;

/// <summary>
/// A session whose <see cref="IChannelSession.Aborted"/> belongs to the one application it serves, which may
/// cancel it itself (when it ends, or learns that its client is gone). A consumer then takes the session's
/// token as its own instead of a token source linked to it: per connection, one token source and one
/// registration fewer.
/// </summary>
internal interface IAbortableSession : IChannelSession
{
    /// <summary>Cancels <see cref="IChannelSession.Aborted"/> (callbacks run on the calling thread); does nothing once the session is disposed.</summary>
    void AbortApplication();
}
