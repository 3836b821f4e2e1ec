using System.Threading.Tasks.Sources;

namespace Channels.Net.Layers.InMemory;

/// <summary>
/// One receiver waiting on a <see cref="ChannelQueue"/>: a node of the queue's FIFO list of
/// waiters and the source of the <see cref="ValueTask{TResult}"/> the receiver awaits. Linked
/// into and out of the list only under the queue's lock, so a waiter that is in the list is
/// always live and is completed exactly once.
/// </summary>
internal sealed class ReceiveWaiter : IValueTaskSource<ChannelMessage>
{
    private ManualResetValueTaskSourceCore<ChannelMessage> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;

    public ReceiveWaiter(ChannelQueue queue)
    {
        Queue = queue;
    }

    public ChannelQueue Queue { get; }

    public ReceiveWaiter? Next { get; set; }

    public ReceiveWaiter? Previous { get; set; }

    public bool Linked { get; set; }

    /// <summary>
    /// Set (before the waiter is linked) for a receiver that takes its message by a call instead of awaiting a task:
    /// a consumer's inbox, which only queues the message, schedules its loop and receives again. The message is then
    /// handed over on the sender's thread, with no thread-pool hop and no window in which the receive is done but not
    /// yet taken (a pool hop under load let a burst fill the channel and skip the consumer).
    /// </summary>
    public ILayerMessageReceiver? Receiver { get; set; }

    public ValueTask<ChannelMessage> Task => new(this, _core.Version);

    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(
                static (state, token) => ((ReceiveWaiter)state!).Queue.CancelWaiter((ReceiveWaiter)state!, token),
                this);
        }
    }

    public void SetResult(ChannelMessage message)
    {
        if (TakeReceiver() is { } receiver)
        {
            receiver.OnLayerMessage(message);
            return;
        }

        _core.SetResult(message);
    }

    public void SetException(Exception exception)
    {
        if (TakeReceiver() is { } receiver)
        {
            receiver.OnLayerError(exception);
            return;
        }

        _core.SetException(exception);
    }

    /// <summary>Ends this wait. The waiter then goes back to its queue for the next receive on that
    /// channel, so a consumer waiting on its channel message after message allocates nothing.</summary>
    public ChannelMessage GetResult(short token)
    {
        if (token != _core.Version)
        {
            // A second take of the same receive: the waiter may already serve the next one, so leave it alone.
            throw new InvalidOperationException("The result of this receive was already taken; a ValueTask from ReceiveAsync may be awaited only once.");
        }

        _registration.Dispose();
        _registration = default;
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Queue.ReturnSpare(this);
        }
    }

    /// <summary>For a receiver's waiter: ends this wait and recycles the waiter before the receiver is called (which
    /// may receive again, with this same waiter). Null for an awaited waiter.</summary>
    private ILayerMessageReceiver? TakeReceiver()
    {
        var receiver = Receiver;
        if (receiver is null)
        {
            return null;
        }

        Receiver = null;
        _registration.Dispose();
        _registration = default;
        Queue.ReturnSpare(this);
        return receiver;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
