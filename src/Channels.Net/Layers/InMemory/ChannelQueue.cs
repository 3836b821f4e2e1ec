using Channels.Net.Internal;
namespace Channels.Net.Layers.InMemory;

/// <summary>
/// The messages of one channel of an <see cref="InMemoryChannelLayer"/>: a bounded ring of
/// (message, expiry) entries and a FIFO list of waiting receivers, all guarded by the queue's own lock.
/// A message is handed straight to the oldest waiting receiver when there is one, so the ring is made
/// only when a message has to wait (a consumer's channel mostly never needs one).
/// </summary>
/// <remarks>
/// Lock order: a caller may hold the layer's group lock when it takes a queue's lock, never the
/// other way round. A retired queue has left the layer's table: whoever finds it retired looks
/// the channel up again.
/// </remarks>
internal sealed class ChannelQueue
{
    /// <summary>A ring larger than this is let go by <see cref="ReleaseIdleRing"/> once it is empty.</summary>
    private const int ShrinkAbove = 16;

    /// <summary>
    /// A channel whose receiver took a message (or started waiting for one) at most this long ago is draining:
    /// <see cref="TryEnqueue"/> with a <c>limitWhileDraining</c> lets its buffer grow past <see cref="Capacity"/>.
    /// </summary>
    public const int DrainingWindowMilliseconds = 2000;

    private Entry[] _items = [];
    private bool _ringUnused;
    private int _head;
    private int _count;
    private ReceiveWaiter? _firstWaiter;
    private ReceiveWaiter? _lastWaiter;
    private ReceiveWaiter? _spareWaiter;
    private long _lastTaken = long.MinValue / 2;

    private readonly Lock _lock = new();

    // Guarded by lock (_lock): the room the listening receiver has left in its budget (0: none listens).
    private int _listenerRoom;

    public ChannelQueue(string name, int capacity)
    {
        Name = name;
        Capacity = capacity;
    }

    public string Name { get; }

    public int Capacity { get; }

    /// <summary>Groups this channel belongs to; read and written only under the layer's group lock (a field:
    /// the set is a struct, changed in place).</summary>
    public NameSet Groups;

    public bool Retired { get; private set; }

    /// <summary>Adds a message (or hands it to a waiting receiver); sets <paramref name="expiredDropped"/>
    /// when expired messages were dropped from the head first. With <paramref name="refuseIfExpired"/>
    /// (group sends), a channel that had expired messages gets nothing: it is presumed dead.</summary>
    /// <remarks>A waiting receiver is given the message after the lock is released: its continuation may run
    /// on this thread (<see cref="ReceiveWaiter.Receiver"/>). With <paramref name="limitWhileDraining"/> above
    /// <see cref="Capacity"/> (a layer that fills the buffer from elsewhere, where the sender cannot be told to wait:
    /// Redis's receive pump, pub/sub), a full buffer still takes the message, up to that many, while its receiver is
    /// draining (it took a message within <see cref="DrainingWindowMilliseconds"/>): a burst then waits for a receiver
    /// that is reading instead of being dropped, and one that stopped reading still holds only <see cref="Capacity"/>.</remarks>
    public EnqueueResult TryEnqueue(ChannelMessage message, long now, long expiresAt, out bool expiredDropped, bool refuseIfExpired = false, int limitWhileDraining = 0)
    {
        ReceiveWaiter? waiter;
        lock (_lock)
        {
            if (Retired)
            {
                expiredDropped = false;
                return EnqueueResult.Retired;
            }

            expiredDropped = DropExpiredLocked(now);
            if (expiredDropped && refuseIfExpired)
            {
                return EnqueueResult.Expired;
            }

            waiter = _firstWaiter;
            if (waiter is null)
            {
                if (_count >= EffectiveCapacityLocked && (_count >= limitWhileDraining || Environment.TickCount64 - _lastTaken > DrainingWindowMilliseconds))
                {
                    return EnqueueResult.Full;
                }

                if (_count == _items.Length)
                {
                    Grow(limitWhileDraining);
                }

                var tail = _head + _count;
                if (tail >= _items.Length)
                {
                    tail -= _items.Length;
                }

                _items[tail] = new Entry(message, expiresAt);
                _count++;
                _ringUnused = false;
                return EnqueueResult.Queued;
            }

            // Unlinked under the lock: no cancellation or other sender can reach it any more.
            UnlinkLocked(waiter);
            _lastTaken = Environment.TickCount64;
        }

        waiter.SetResult(message);
        return EnqueueResult.Delivered;
    }

    /// <summary>Takes the next unexpired message, or queues <paramref name="waiter"/> to be given the
    /// next one. Returns null when the waiter was queued or the queue is retired (<paramref name="retired"/>).
    /// With a <paramref name="receiver"/>, the waiter hands its message (or error) to it on the thread that gives it
    /// (see <see cref="ReceiveWaiter.Receiver"/>), and <paramref name="cancellationToken"/> is registered before the
    /// waiter can be given anything.</summary>
    public ChannelMessage? TryDequeueOrWait(long now, Func<ChannelQueue, ReceiveWaiter> newWaiter, ILayerMessageReceiver? receiver, out ReceiveWaiter? waiter, out bool expiredDropped, out bool retired, CancellationToken cancellationToken = default, int listenerRoom = 0)
    {
        lock (_lock)
        {
            if (receiver is not null)
            {
                _listenerRoom = listenerRoom;
            }

            waiter = null;
            expiredDropped = false;
            retired = Retired;
            if (retired)
            {
                return null;
            }

            expiredDropped = DropExpiredLocked(now);
            _lastTaken = Environment.TickCount64;
            if (_count > 0)
            {
                var entry = _items[_head];
                _items[_head] = default;
                _head = _head + 1 == _items.Length ? 0 : _head + 1;
                _count--;
                return entry.Message;
            }

            waiter = Interlocked.Exchange(ref _spareWaiter, null) ?? newWaiter(this);
            waiter.Receiver = receiver;
            if (receiver is not null)
            {
                // Registered before the waiter is linked: once linked, a sender may give it a message and recycle it
                // at once. A token cancelled meanwhile finds it unlinked; the caller checked the token just before.
                waiter.RegisterCancellation(cancellationToken);
            }

            waiter.Linked = true;
            waiter.Previous = _lastWaiter;
            if (_lastWaiter is null)
            {
                _firstWaiter = waiter;
            }
            else
            {
                _lastWaiter.Next = waiter;
            }

            _lastWaiter = waiter;
            return null;
        }
    }

    /// <summary>The receiver stopped listening (its budget is spent): the channel's own capacity applies again.</summary>
    public void StopListening()
    {
        lock (_lock)
        {
            _listenerRoom = 0;
        }
    }

    /// <summary>Keeps a finished waiter for the next receive on this channel.</summary>
    public void ReturnSpare(ReceiveWaiter waiter) => Interlocked.CompareExchange(ref _spareWaiter, waiter, null);

    public void CancelWaiter(ReceiveWaiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!waiter.Linked)
            {
                return; // Already given a message: the message wins over the cancellation.
            }

            UnlinkLocked(waiter);
            if (waiter.Receiver is not null)
            {
                _listenerRoom = 0; // The listener is gone.
            }
        }

        waiter.SetException(new OperationCanceledException(cancellationToken));
    }

    /// <summary>Lets go of a large ring that stayed empty since the previous call (the layer's periodic sweep
    /// calls it): a backlog that is over does not keep its memory for the rest of the channel's life, while
    /// bursts that come more often than the sweep reuse it.</summary>
    public void ReleaseIdleRing()
    {
        lock (_lock)
        {
            if (_count > 0 || _items.Length <= ShrinkAbove)
            {
                _ringUnused = false;
            }
            else if (_ringUnused)
            {
                _items = [];
                _head = 0;
                _ringUnused = false;
            }
            else
            {
                _ringUnused = true;
            }
        }
    }

    /// <summary>Drops expired messages; true when any was dropped.</summary>
    public bool DropExpired(long now)
    {
        lock (_lock)
        {
            return DropExpiredLocked(now);
        }
    }

    /// <summary>Retires the queue if it holds nothing and nobody waits on it. Caller holds the group lock
    /// and has checked the queue belongs to no group.</summary>
    public bool TryRetireIfIdle()
    {
        lock (_lock)
        {
            if (_count == 0 && _firstWaiter is null)
            {
                Retired = true;
            }

            return Retired;
        }
    }

    /// <summary>Empties the queue; when nobody waits, also retires it. Returns true when retired.</summary>
    public bool Clear()
    {
        lock (_lock)
        {
            Array.Clear(_items);
            _head = 0;
            _count = 0;
            if (_firstWaiter is null)
            {
                Retired = true;
            }

            return Retired;
        }
    }

    /// <summary>Retires the queue and fails every waiting receiver with <paramref name="error"/>.</summary>
    public void Close(Exception error)
    {
        ReceiveWaiter? waiters;
        lock (_lock)
        {
            Retired = true;
            Array.Clear(_items);
            _count = 0;
            waiters = _firstWaiter;
            for (var w = waiters; w is not null; w = w.Next)
            {
                w.Linked = false;
            }

            _firstWaiter = _lastWaiter = null;
        }

        while (waiters is not null)
        {
            var next = waiters.Next;
            waiters.Next = waiters.Previous = null;
            waiters.SetException(error);
            waiters = next;
        }
    }

    /// <summary>How many entries the ring has room for (0 until a message has had to wait).</summary>
    public int RingLength
    {
        get
        {
            lock (_lock)
            {
                return _items.Length;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>
    /// The channel's capacity, or while a receiver listens (<see cref="ILayerMessageReceiver"/>, a live consumer) the
    /// room it has left in its own budget, whichever is larger. A listening receiver takes each message as it comes;
    /// a message finds no waiter only in the moment between one hand-over and the next listen, and on a busy machine
    /// that moment can last a whole time slice of the listener's thread, in which a burst would fill the capacity and
    /// skip a consumer that is draining.
    /// </summary>
    private int EffectiveCapacityLocked => Math.Max(Capacity, _listenerRoom);

    private bool DropExpiredLocked(long now)
    {
        var dropped = false;
        while (_count > 0 && _items[_head].ExpiresAt <= now)
        {
            _items[_head] = default;
            _head = _head + 1 == _items.Length ? 0 : _head + 1;
            _count--;
            dropped = true;
        }

        return dropped;
    }

    private void UnlinkLocked(ReceiveWaiter waiter)
    {
        if (waiter.Previous is null)
        {
            _firstWaiter = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _lastWaiter = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Next = waiter.Previous = null;
        waiter.Linked = false;
    }

    /// <summary>Doubles the ring, up to the effective capacity or <paramref name="limit"/> (a draining receiver's limit), whichever is larger.</summary>
    private void Grow(int limit)
    {
        // Most channels hold a message or two at a time (a consumer's channel): the ring starts at 2 entries.
        var bigger = new Entry[Math.Min(Math.Max(_items.Length * 2, 2), Math.Max(EffectiveCapacityLocked, limit))];
        for (var i = 0; i < _count; i++)
        {
            var index = _head + i;
            bigger[i] = _items[index >= _items.Length ? index - _items.Length : index];
        }

        _items = bigger;
        _head = 0;
    }

    private readonly record struct Entry(ChannelMessage Message, long ExpiresAt);
}

/// <summary>What <see cref="ChannelQueue.TryEnqueue"/> did.</summary>
internal enum EnqueueResult
{
    Queued,
    Delivered,
    Full,
    Retired,

    /// <summary>Not queued: the channel had expired messages and the caller asked to skip such channels.</summary>
    Expired,
}
