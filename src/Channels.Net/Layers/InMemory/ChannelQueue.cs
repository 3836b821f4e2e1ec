namespace Channels.Net.Layers.InMemory;

/// <summary>
/// The messages of one channel of an <see cref="InMemoryChannelLayer"/>: a bounded ring of
/// (message, expiry) entries and a FIFO list of waiting receivers, all guarded by one lock.
/// A message is handed straight to the oldest waiting receiver when there is one.
/// </summary>
/// <remarks>
/// Lock order: a caller may hold the layer's group lock when it takes a queue's lock, never the
/// other way round. A retired queue has left the layer's table: whoever finds it retired looks
/// the channel up again.
/// </remarks>
internal sealed class ChannelQueue
{
    private readonly object _gate = new();
    private Entry[] _items;
    private int _head;
    private int _count;
    private ReceiveWaiter? _firstWaiter;
    private ReceiveWaiter? _lastWaiter;
    private ReceiveWaiter? _spareWaiter;

    public ChannelQueue(string name, int capacity)
    {
        Name = name;
        Capacity = capacity;
        // Most channels hold a message or two at a time (a consumer's channel); the ring grows when needed.
        _items = new Entry[Math.Min(capacity, 2)];
    }

    public string Name { get; }

    public int Capacity { get; }

    /// <summary>Groups this channel belongs to; read and written only under the layer's group lock.</summary>
    public List<string> Groups { get; } = [];

    public bool Retired { get; private set; }

    /// <summary>Adds a message (or hands it to a waiting receiver); sets <paramref name="expiredDropped"/>
    /// when expired messages were dropped from the head first. With <paramref name="refuseIfExpired"/>
    /// (group sends), a channel that had expired messages gets nothing: it is presumed dead.</summary>
    public EnqueueResult TryEnqueue(ChannelMessage message, long now, long expiresAt, out bool expiredDropped, bool refuseIfExpired = false)
    {
        lock (_gate)
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

            var waiter = _firstWaiter;
            if (waiter is not null)
            {
                UnlinkLocked(waiter);
                waiter.SetResult(message);
                return EnqueueResult.Delivered;
            }

            if (_count >= Capacity)
            {
                return EnqueueResult.Full;
            }

            if (_count == _items.Length)
            {
                Grow();
            }

            var tail = _head + _count;
            if (tail >= _items.Length)
            {
                tail -= _items.Length;
            }

            _items[tail] = new Entry(message, expiresAt);
            _count++;
            return EnqueueResult.Queued;
        }
    }

    /// <summary>Takes the next unexpired message, or queues <paramref name="waiter"/> to be given the
    /// next one. Returns null when the waiter was queued or the queue is retired (<paramref name="retired"/>).</summary>
    public ChannelMessage? TryDequeueOrWait(long now, Func<ChannelQueue, ReceiveWaiter> newWaiter, out ReceiveWaiter? waiter, out bool expiredDropped, out bool retired)
    {
        lock (_gate)
        {
            waiter = null;
            expiredDropped = false;
            retired = Retired;
            if (retired)
            {
                return null;
            }

            expiredDropped = DropExpiredLocked(now);
            if (_count > 0)
            {
                var entry = _items[_head];
                _items[_head] = default;
                _head = _head + 1 == _items.Length ? 0 : _head + 1;
                _count--;
                return entry.Message;
            }

            waiter = Interlocked.Exchange(ref _spareWaiter, null) ?? newWaiter(this);
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

    /// <summary>Keeps a finished waiter for the next receive on this channel.</summary>
    public void ReturnSpare(ReceiveWaiter waiter) => Interlocked.CompareExchange(ref _spareWaiter, waiter, null);

    public void CancelWaiter(ReceiveWaiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!waiter.Linked)
            {
                return; // Already given a message: the message wins over the cancellation.
            }

            UnlinkLocked(waiter);
        }

        waiter.SetException(new OperationCanceledException(cancellationToken));
    }

    /// <summary>Drops expired messages; true when any was dropped.</summary>
    public bool DropExpired(long now)
    {
        lock (_gate)
        {
            return DropExpiredLocked(now);
        }
    }

    /// <summary>Retires the queue if it holds nothing and nobody waits on it. Caller holds the group lock
    /// and has checked the queue belongs to no group.</summary>
    public bool TryRetireIfIdle()
    {
        lock (_gate)
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
        lock (_gate)
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
        lock (_gate)
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

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

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

    private void Grow()
    {
        var bigger = new Entry[Math.Min(Math.Max(_items.Length * 2, 4), Capacity)];
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
