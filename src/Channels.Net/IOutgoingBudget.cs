namespace Channels.Net;

/// <summary>
/// A session that queues what the application sends (instead of making each send wait for the socket) and so owns
/// the connection's outgoing budget: how many messages may wait for the client at most. The consumer's inbox counts
/// the channel-layer messages it took and has not handled yet against the same budget, so a connection holds at
/// most that many messages between the layer and the socket.
/// </summary>
internal interface IOutgoingBudget
{
    /// <summary>How many messages may wait for the client, counting those queued by the session and
    /// those the consumer took from the layer and has not handled yet.</summary>
    int MaxMessages { get; }

    /// <summary>Messages queued for the client and not yet written to the socket.</summary>
    int QueuedMessages { get; }

    /// <summary>True while the queued bytes leave room (the byte half of the budget).</summary>
    bool HasByteRoom { get; }

    /// <summary>Calls <paramref name="callback"/> once, when queued messages next leave the socket (at once, on the
    /// caller's thread, when nothing is queued now). The callback must be cheap: it runs on the writer's thread.</summary>
    void WhenWritten(Action callback);
}
