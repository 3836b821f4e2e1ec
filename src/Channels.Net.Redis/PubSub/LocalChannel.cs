using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.PubSub;

/// <summary>
/// A channel this process is subscribed to (channels_redis's per-channel <c>asyncio.Queue</c>): the
/// bounded buffer of messages that arrived for it and its waiting receives, served first come, first
/// served, plus the bookkeeping the layer keeps for it.
/// </summary>
/// <remarks>
/// The buffer is the in-memory layer's <see cref="ChannelQueue"/> without expiry. It holds the layer's
/// buffer capacity, and more (up to its <c>ReceiveBufferLimit</c>) while the channel's receiver is draining.
/// When it is full, an arriving message is dropped (the buffered ones are kept); the first drop of a run is
/// logged as a warning and the end of the run, with how many were dropped, as information.
/// </remarks>
internal sealed class LocalChannel
{
    private static readonly Func<ChannelQueue, ReceiveWaiter> s_newWaiter = static queue => new ReceiveWaiter(queue);

    private readonly ILogger _logger;
    private readonly Lock _dropLock = new();
    private volatile ChannelQueue _queue;
    private volatile Exception? _closed;
    private volatile bool _dropping;
    private long _droppedInRun;
    private readonly int _limitWhileDraining;

    public LocalChannel(string name, int capacity, int limitWhileDraining, ILogger logger)
    {
        Name = name;
        Capacity = capacity;
        _limitWhileDraining = limitWhileDraining;
        _logger = logger;
        _queue = new ChannelQueue(name, capacity);
        Listener = new ChannelListener(this);
    }

    public string Name { get; }

    public int Capacity { get; }

    /// <summary>How many messages wait in the buffer.</summary>
    public int Count => _queue.Count;

    // The layer's bookkeeping, read and written only under the layer's state lock.

    /// <summary>The Redis channels of the groups this channel is a member of.</summary>
    public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);

    /// <summary>Receives in progress.</summary>
    public int ActiveReceives { get; set; }

    /// <summary>Bumped by every receive and every scheduled release, so a release timer that fires late does nothing.</summary>
    public long ReleaseGeneration { get; set; }

    /// <summary>The pending release, if a receive was cancelled and none followed.</summary>
    public ITimer? ReleaseTimer { get; set; }

    /// <summary>The channel was unsubscribed and left the layer's table; it takes no further receive.</summary>
    public bool Released { get; set; }

    /// <summary>
    /// Hands <paramref name="message"/> to the oldest waiting receive or buffers it.
    /// Returns false when it was dropped (the buffer is full, or the channel is closed).
    /// </summary>
    public bool Deliver(ChannelMessage message)
    {
        while (true)
        {
            if (_closed is not null)
            {
                return false;
            }

            var queue = _queue;
            switch (queue.TryEnqueue(message, 0, long.MaxValue, out _, limitWhileDraining: _limitWhileDraining))
            {
                case EnqueueResult.Full:
                    OnDropped();
                    return false;
                case EnqueueResult.Retired:
                    continue; // a flush emptied and replaced the buffer, or a release closed it: look again
                default:
                    if (_dropping)
                    {
                        OnAccepting();
                    }

                    return true;
            }
        }
    }

    /// <summary>The one listener of this channel's inbox (see <see cref="RedisPubSubChannelLayer"/>'s <c>TryReceiveOrListen</c>).</summary>
    public ChannelListener Listener { get; }

    /// <summary>
    /// Takes the next message if one waits; otherwise returns null and hands the next one to <see cref="Listener"/>
    /// when it comes, on the deliverer's thread. Throws the error the channel was closed with.
    /// </summary>
    public ChannelMessage? ReceiveOrListen(int room, CancellationToken cancellationToken)
    {
        while (true)
        {
            var queue = _queue;
            var message = queue.TryDequeueOrWait(0, s_newWaiter, Listener, out var waiter, out _, out var retired, cancellationToken, room);
            if (message is not null || waiter is not null)
            {
                return message;
            }

            if (retired && _closed is { } error)
            {
                throw error;
            }
        }
    }

    /// <summary>The listener stopped (its budget is spent): the buffer's own capacity applies again.</summary>
    public void StopListening() => _queue.StopListening();

    /// <summary>Takes the next message or waits for one; a cancelled wait takes no message.</summary>
    /// <exception cref="ObjectDisposedException">The layer was closed.</exception>
    public ValueTask<ChannelMessage> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var queue = _queue;
            var message = queue.TryDequeueOrWait(0, s_newWaiter, receiver: null, out var waiter, out _, out var retired);
            if (message is not null)
            {
                return new ValueTask<ChannelMessage>(message);
            }

            if (waiter is not null)
            {
                waiter.RegisterCancellation(cancellationToken);
                return waiter.Task;
            }

            if (retired && _closed is { } error)
            {
                return ValueTask.FromException<ChannelMessage>(error);
            }
        }
    }

    /// <summary>Drops every buffered message (flush); waiting receives keep waiting.</summary>
    public void Clear()
    {
        var queue = _queue;
        if (queue.Clear())
        {
            // Nobody waited, so the old buffer retired: deliveries and receives that find it retired use this one.
            _queue = new ChannelQueue(Name, Capacity);
        }
    }

    /// <summary>Closes the channel for good: buffered messages are dropped (their count is returned),
    /// waiting receives and later ones fail with <paramref name="error"/>, deliveries are dropped.</summary>
    public int Close(Exception error)
    {
        _closed = error;
        var queue = _queue;
        var dropped = queue.Count;
        queue.Close(error);
        return dropped;
    }

    private void OnDropped()
    {
        bool first;
        lock (_dropLock)
        {
            first = !_dropping;
            _dropping = true;
            _droppedInRun++;
        }

        if (first)
        {
            PubSubLog.BufferFull(_logger, Name, Capacity);
        }
    }

    private void OnAccepting()
    {
        long dropped;
        lock (_dropLock)
        {
            if (!_dropping)
            {
                return;
            }

            _dropping = false;
            dropped = _droppedInRun;
            _droppedInRun = 0;
        }

        PubSubLog.BufferRecovered(_logger, Name, dropped);
    }
}
