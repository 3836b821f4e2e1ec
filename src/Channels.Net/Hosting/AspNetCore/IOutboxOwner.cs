namespace Channels.Net.Hosting.AspNetCore;

/// <summary>What a <see cref="WebSocketOutbox"/> tells its session (an interface rather than two delegates: one
/// object fewer per connection).</summary>
internal interface IOutboxOwner
{
    /// <summary>A write failed; nothing more will be written (the outbox is closed).</summary>
    void OnWriteFailed(Exception exception);

    /// <summary>The budget stayed spent for <see cref="ChannelsOptions.SlowClientTimeout"/> (called once, on a timer
    /// thread, after the outbox closed), with the messages and bytes that were waiting.</summary>
    void OnSlowClient(int messages, long bytes);
}
