using System.Collections.Concurrent;
using System.Security.Cryptography;
using Channels.Net.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Channels.Net.Layers.InMemory;

/// <summary>
/// The in-process channel layer (Django's <c>channels.layers.InMemoryChannelLayer</c>): channels
/// and groups in this process's memory, with Django's options and semantics.
/// </summary>
/// <remarks>
/// <para>FIFO per channel. A message not received within <see cref="InMemoryChannelLayerOptions.Expiry"/>
/// is dropped, and its channel leaves every group (the consumer behind it is presumed gone). A group
/// membership lapses <see cref="InMemoryChannelLayerOptions.GroupExpiry"/> after it was last added.
/// <see cref="GroupSendAsync"/> skips members whose channels are full and logs them. Unlike
/// Django's, per-channel capacities (<c>channel_capacity</c>) apply.</para>
/// <para>A group send hands the one immutable message to every member: no copy and no allocation
/// per member. Idle channels are swept periodically, so a process that opens and closes many
/// connections does not grow.</para>
/// </remarks>
public sealed partial class InMemoryChannelLayer : IChannelLayer, IListeningChannelLayer
{
    private readonly ConcurrentDictionary<string, ChannelQueue> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ChannelQueue>.AlternateLookup<ReadOnlySpan<char>> _channelsBySpan;
    private readonly Dictionary<string, InMemoryGroup> _groups = new(StringComparer.Ordinal);
    private readonly Lock _groupLock = new();
    private readonly ChannelCapacities _capacities;
    private readonly TimeProvider _time;
    private readonly bool _coarseClock;
    private readonly long _expiryTicks;
    private readonly long _groupExpiryTicks;
    private readonly ITimer _sweeper;
    private readonly ILogger _logger;
    private readonly Func<ChannelQueue, ReceiveWaiter> _newWaiter = static queue => new ReceiveWaiter(queue);
    private volatile bool _disposed;

    /// <summary>Creates a layer with Django's defaults.</summary>
    public InMemoryChannelLayer()
        : this(new InMemoryChannelLayerOptions())
    {
    }

    /// <summary>Creates a layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public InMemoryChannelLayer(InMemoryChannelLayerOptions options, ILogger<InMemoryChannelLayer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = options.TimeProvider;

        // Expiry counts in seconds: the system's coarse millisecond tick is precise enough and far
        // cheaper than a high-resolution timestamp on every send and receive. A test clock is used as given.
        _coarseClock = ReferenceEquals(_time, TimeProvider.System);
        _capacities = new ChannelCapacities(options.Capacity, options.ChannelCapacity);
        _expiryTicks = ToTicks(options.Expiry);
        _groupExpiryTicks = ToTicks(options.GroupExpiry);
        var sweepEvery = TimeSpan.FromTicks(Math.Clamp(options.Expiry.Ticks / 2, TimeSpan.TicksPerSecond, 10 * TimeSpan.TicksPerSecond));
        _channelsBySpan = _channels.GetAlternateLookup<ReadOnlySpan<char>>();
        _sweeper = _time.CreateTimer(static state => ((InMemoryChannelLayer)state!).Sweep(), this, sweepEvery, sweepEvery);
    }

    /// <summary>The options this layer was made with.</summary>
    public InMemoryChannelLayerOptions Options { get; }

    /// <inheritdoc />
    public ChannelLayerExtensions Extensions => ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush;

    /// <summary>How many channels currently have a queue (messages, waiting receivers or group memberships).</summary>
    public int ChannelCount => _channels.Count;

    /// <inheritdoc />
    public ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var now = Now();
        while (true)
        {
            var queue = GetOrCreateQueue(channel);
            var result = queue.TryEnqueue(message, now, now + _expiryTicks, out var expired);
            if (expired)
            {
                OnExpired(queue);
            }

            switch (result)
            {
                case EnqueueResult.Full:
                    throw new ChannelFullException(channel, queue.Capacity);
                case EnqueueResult.Retired:
                    ThrowIfDisposed();
                    continue;
                default:
                    return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>The name of an existing channel, as the string the layer holds, found from its characters without
    /// making a string (the Redis layer resolves the channel names a message from Redis lists this way).</summary>
    internal bool TryGetChannelName(ReadOnlySpan<char> name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? channel)
    {
        if (_channelsBySpan.TryGetValue(name, out channel, out _))
        {
            return true;
        }

        channel = null;
        return false;
    }

    /// <summary>
    /// A send from a layer that fills this one's buffers from elsewhere (the Redis layer's receive pump): as
    /// <see cref="SendAsync"/>, except that a channel whose receiver is draining takes the message beyond its capacity,
    /// up to <paramref name="limitWhileDraining"/> (see <see cref="ChannelQueue.TryEnqueue"/>), and a full channel is
    /// reported by returning false instead of throwing.
    /// </summary>
    internal bool TryDeliver(string channel, ChannelMessage message, int limitWhileDraining)
    {
        ThrowIfDisposed();
        var now = Now();
        while (true)
        {
            var queue = GetOrCreateQueue(channel);
            var result = queue.TryEnqueue(message, now, now + _expiryTicks, out var expired, limitWhileDraining: limitWhileDraining);
            if (expired)
            {
                OnExpired(queue);
            }

            switch (result)
            {
                case EnqueueResult.Full:
                    return false;
                case EnqueueResult.Retired:
                    ThrowIfDisposed();
                    continue;
                default:
                    return true;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ChannelMessage>(cancellationToken);
        }

        while (true)
        {
            var queue = GetOrCreateQueue(channel);
            var message = queue.TryDequeueOrWait(Now(), _newWaiter, receiver: null, out var waiter, out var expired, out var retired);
            if (expired)
            {
                OnExpired(queue);
            }

            if (message is not null)
            {
                return new ValueTask<ChannelMessage>(message);
            }

            if (waiter is not null)
            {
                waiter.RegisterCancellation(cancellationToken);
                return waiter.Task;
            }

            if (retired)
            {
                ThrowIfDisposed();
            }
        }
    }

    /// <inheritdoc />
    bool IListeningChannelLayer.TryReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken, out ChannelMessage? message)
    {
        message = ReceiveOrListen(channel, receiver, room, cancellationToken);
        return true;
    }

    /// <summary>Takes <paramref name="channel"/>'s next message if one waits; otherwise returns null and hands the next
    /// one to <paramref name="receiver"/> when it comes, on the sender's thread (see <see cref="IListeningChannelLayer"/>).</summary>
    /// <remarks>The same steps as the public receive, which keeps its own copy: calling through a shared method
    /// (not inlined, it loops) cost the layer's hot path ~10 ns per receive in the <c>inmemory</c> benchmark.</remarks>
    internal ChannelMessage? ReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            var queue = GetOrCreateQueue(channel);
            var message = queue.TryDequeueOrWait(Now(), _newWaiter, receiver, out var waiter, out var expired, out var retired, cancellationToken, room);
            if (expired)
            {
                OnExpired(queue);
            }

            if (message is not null || waiter is not null)
            {
                return message;
            }

            if (retired)
            {
                ThrowIfDisposed();
            }
        }
    }

    /// <inheritdoc />
    void IListeningChannelLayer.StopListening(string channel)
    {
        if (_channels.TryGetValue(channel, out var queue))
        {
            queue.StopListening();
        }
    }

    /// <inheritdoc />
    public ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<string>(cancellationToken);
        }

        Span<char> suffix = stackalloc char[12];
        RandomNumberGenerator.GetItems("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", suffix);
        return ValueTask.FromResult(ChannelNames.NewProcessLocalName(prefix, "inmemory", suffix));
    }

    /// <inheritdoc />
    public ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var now = Now();
        lock (_groupLock)
        {
            ThrowIfDisposed();
            ChannelQueue queue;
            do
            {
                queue = GetOrCreateQueue(channel);
            }
            while (queue.Retired);

            if (!_groups.TryGetValue(group, out var members))
            {
                members = new InMemoryGroup(group);
                _groups.Add(group, members);
            }

            if (members.AddOrRenew(queue, now))
            {
                queue.Groups.Add(group);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        lock (_groupLock)
        {
            if (_groups.TryGetValue(group, out var members) && members.Remove(channel))
            {
                if (_channels.TryGetValue(channel, out var queue))
                {
                    queue.Groups.Remove(group);
                }

                if (members.Count == 0)
                {
                    _groups.Remove(group);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        InMemoryGroup.Member[] members;
        lock (_groupLock)
        {
            if (!_groups.TryGetValue(group, out var found))
            {
                return ValueTask.CompletedTask;
            }

            members = found.Snapshot;
        }

        var now = Now();
        var expiresAt = now + _expiryTicks;
        var lapsedBefore = now - _groupExpiryTicks;
        var full = 0;
        var lapsed = false;
        string? firstFull = null;
        using var wakeUps = WorkItemBatch.Begin(); // The members' consumers are woken a few work items at a time.
        foreach (var member in members)
        {
            if (member.JoinedAt <= lapsedBefore)
            {
                lapsed = true;
                continue;
            }

            var queue = member.Queue;
            var result = queue.TryEnqueue(message, now, expiresAt, out var expired, refuseIfExpired: true);
            if (expired)
            {
                // Django drops a channel with an expired message from its groups before sending, so
                // the message is not queued for it (EnqueueResult.Expired).
                OnExpired(queue);
            }

            if (result == EnqueueResult.Full)
            {
                full++;
                firstFull ??= queue.Name;
            }
            else if (result == EnqueueResult.Retired && !_disposed)
            {
                try
                {
                    SendAsync(queue.Name, message, cancellationToken).GetAwaiter().GetResult();
                }
                catch (ChannelFullException)
                {
                    full++;
                    firstFull ??= queue.Name;
                }
            }
        }

        if (lapsed)
        {
            PruneLapsed(group, lapsedBefore);
        }

        if (full > 0)
        {
            LogGroupMembersFull(_logger, group, full, members.Length, firstFull!);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_groupLock)
        {
            _groups.Clear();
            foreach (var (name, queue) in _channels)
            {
                queue.Groups.Clear();
                if (queue.Clear())
                {
                    _channels.TryRemove(new KeyValuePair<string, ChannelQueue>(name, queue));
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the layer: waiting receivers fail with <see cref="ObjectDisposedException"/>,
    /// and every later call throws it.</summary>
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return ValueTask.CompletedTask;
        }

        _disposed = true;
        _sweeper.Dispose();
        lock (_groupLock)
        {
            _groups.Clear();
            var error = new ObjectDisposedException(nameof(InMemoryChannelLayer), "The channel layer was closed while a receive was waiting.");
            foreach (var queue in _channels.Values)
            {
                queue.Close(error);
            }

            _channels.Clear();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Runs the periodic cleanup now: drops expired messages (their channels leave their
    /// groups), ends lapsed memberships and forgets idle channels.</summary>
    internal void Sweep()
    {
        if (_disposed)
        {
            return;
        }

        var now = Now();
        var lapsedBefore = now - _groupExpiryTicks;
        lock (_groupLock)
        {
            foreach (var group in _groups.Values.ToArray())
            {
                PruneLapsedLocked(group, lapsedBefore);
            }
        }

        foreach (var (name, queue) in _channels)
        {
            if (queue.DropExpired(now))
            {
                OnExpired(queue);
            }

            queue.ReleaseIdleRing();

            lock (_groupLock)
            {
                if (queue.Groups.Count == 0 && queue.TryRetireIfIdle())
                {
                    _channels.TryRemove(new KeyValuePair<string, ChannelQueue>(name, queue));
                }
            }
        }
    }

    /// <summary>The queue of <paramref name="channel"/>, made on first use. A queue exists only for a valid
    /// name, so the name is checked only when no queue is found.</summary>
    /// <summary>True when <paramref name="channel"/> has a queue here (its name was checked when the queue was made).</summary>
    internal bool HasChannel(string channel) => _channels.ContainsKey(channel);

    private ChannelQueue GetOrCreateQueue(string channel)
    {
        if (channel is not null && _channels.TryGetValue(channel, out var queue))
        {
            return queue;
        }

        ChannelNames.RequireValidChannelName(channel);
        return _channels.GetOrAdd(channel!, static (name, layer) => new ChannelQueue(name, layer._capacities.GetCapacity(name)), this);
    }

    private long Now() => _coarseClock ? Environment.TickCount64 : _time.GetTimestamp();

    /// <summary>A message on <paramref name="queue"/> expired unread: its channel leaves every group.</summary>
    private void OnExpired(ChannelQueue queue)
    {
        string[] left;
        lock (_groupLock)
        {
            if (queue.Groups.Count == 0)
            {
                return;
            }

            left = queue.Groups.ToArray();
            foreach (var groupName in left)
            {
                if (_groups.TryGetValue(groupName, out var group))
                {
                    group.Remove(queue.Name);
                    if (group.Count == 0)
                    {
                        _groups.Remove(groupName);
                    }
                }
            }

            queue.Groups.Clear();
        }

        LogExpiredLeftGroups(_logger, queue.Name, left.Length);
    }

    private void PruneLapsed(string groupName, long lapsedBefore)
    {
        lock (_groupLock)
        {
            if (_groups.TryGetValue(groupName, out var group))
            {
                PruneLapsedLocked(group, lapsedBefore);
            }
        }
    }

    private void PruneLapsedLocked(InMemoryGroup group, long lapsedBefore)
    {
        List<InMemoryGroup.Member>? lapsed = null;
        foreach (var member in group.Members)
        {
            if (member.JoinedAt <= lapsedBefore)
            {
                (lapsed ??= []).Add(member);
            }
        }

        if (lapsed is null)
        {
            return;
        }

        foreach (var member in lapsed)
        {
            group.Remove(member.Queue.Name);
            member.Queue.Groups.Remove(group.Name);
        }

        if (group.Count == 0)
        {
            _groups.Remove(group.Name);
        }
    }

    private long ToTicks(TimeSpan span) => (long)Math.Min(span.TotalSeconds * (_coarseClock ? 1000 : _time.TimestampFrequency), long.MaxValue / 4);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    [LoggerMessage(10, LogLevel.Warning, "group_send to '{Group}' skipped {Full} of {Members} member(s) whose channels are full (first: '{FirstFull}').")]
    private static partial void LogGroupMembersFull(ILogger logger, string group, int full, int members, string firstFull);

    [LoggerMessage(11, LogLevel.Debug, "A message on '{Channel}' expired unread; the channel left {Groups} group(s).")]
    private static partial void LogExpiredLeftGroups(ILogger logger, string channel, int groups);
}
