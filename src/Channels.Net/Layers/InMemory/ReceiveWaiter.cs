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
    /// Set (before the waiter is linked) when the receiver's continuation is cheap and safe to run on the
    /// thread that gives the message (a consumer's inbox only notes it and schedules its loop): the message is
    /// then handed over without a thread-pool hop of its own. Otherwise continuations run asynchronously, so a
    /// sender never runs a receiver's code.
    /// </summary>
    public bool ContinueInline
    {
        get => !_core.RunContinuationsAsynchronously;
        set => _core.RunContinuationsAsynchronously = !value;
    }

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

    public void SetResult(ChannelMessage message) => _core.SetResult(message);

    public void SetException(Exception exception) => _core.SetException(exception);

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

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
