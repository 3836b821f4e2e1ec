using StackExchange.Redis;

namespace Channels.Net.Redis.Receiving;

/// <summary>
/// One Redis key of this layer's own process-local channels (<c>{prefix}{name}.{client}!</c>), and
/// whether a send to one of its channels may skip Redis and go straight to the in-process buffer the
/// receive pump fills.
/// </summary>
/// <remarks>
/// <para>A send through Redis to such a key ends, when the pump reads the key, in the same buffer: the
/// pump pops the message, drops it if it expired, and hands it to the channel's buffer, which drops it
/// (logged) when full. Going straight there gives every observer what the trip through Redis could
/// have given, provided that (1) the pump reads this key and is not failing — otherwise the message
/// would wait in Redis, count towards the key's capacity (<see cref="Channels.Net.Layers.ChannelFullException"/>)
/// and expire there — and (2) no message this layer sent to the key through Redis is still there: a
/// message going in-process must not overtake an earlier one from the same sender.</para>
/// <para>(2) is counted: every send through Redis to the key is bracketed by <see cref="WireSendStarted"/>
/// and <see cref="WireSendEnded"/>. Before each pop the pump samples the ended count; when that pop
/// leaves the key empty (it returned fewer messages than it asked for, or timed out) every send counted
/// in the sample has been popped and handed over, and <see cref="MarkDrained"/> records the sample.
/// The key delivers in-process while the drained count has caught up with the started count. Only
/// this layer can read the key (channels_redis receives on a process-local key only with its own
/// client prefix), so no other process can observe the difference.</para>
/// </remarks>
internal sealed class LocalKey
{
    private long _wireSendsStarted;
    private long _wireSendsEnded;
    private long _drained;
    private volatile ReceivePump? _pump;
    private volatile bool _read;

    public LocalKey(string nonLocalName, string key, int shardIndex)
    {
        NonLocalName = nonLocalName;
        Key = key;
        ShardIndex = shardIndex;
    }

    /// <summary>The channels' shared part, <c>{name}.{client}!</c>.</summary>
    public string NonLocalName { get; }

    /// <summary>The Redis key, <c>{prefix}{name}.{client}!</c>.</summary>
    public RedisKey Key { get; }

    /// <summary>The host (shard) that holds the key.</summary>
    public int ShardIndex { get; }

    /// <summary>The pump that reads the key, once a receive has asked for it.</summary>
    public ReceivePump? Pump => _pump;

    /// <summary>True when a send to one of the key's channels may be handed to the in-process buffer (see the remarks).</summary>
    public bool DeliversInProcess
    {
        get
        {
            // Started first: a drained count read afterwards that is at least as high covers every send started before.
            var started = Volatile.Read(ref _wireSendsStarted);
            return _read && _pump is { IsReading: true } && Volatile.Read(ref _drained) >= started;
        }
    }

    /// <summary>True while a send this layer made through Redis to the key may still be there.</summary>
    public bool IsBehind => Volatile.Read(ref _drained) < Volatile.Read(ref _wireSendsStarted);

    /// <summary>Counts a send through Redis to this key, before it is issued.</summary>
    public void WireSendStarted() => Interlocked.Increment(ref _wireSendsStarted);

    /// <summary>Counts a send through Redis to this key as done (answered or failed).</summary>
    public void WireSendEnded() => Interlocked.Increment(ref _wireSendsEnded);

    /// <summary>The pump takes the key on (before its first pop that includes it).</summary>
    internal void AttachTo(ReceivePump pump) => _pump = pump;

    /// <summary>The pump's pops include the key from now on.</summary>
    internal void MarkRead() => _read = true;

    /// <summary>Sampled by the pump just before a pop.</summary>
    internal long SampleWireSendsEnded() => Volatile.Read(ref _wireSendsEnded);

    /// <summary>A pop issued after <paramref name="endedBeforePop"/> was sampled left the key empty.</summary>
    internal void MarkDrained(long endedBeforePop)
    {
        var current = Volatile.Read(ref _drained);
        while (current < endedBeforePop)
        {
            var seen = Interlocked.CompareExchange(ref _drained, endedBeforePop, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
