using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Channels.Net.Redis.Connections;
using Channels.Net.Redis.Wire;

namespace Channels.Net.Redis.Receiving;

/// <summary>
/// The one reader per process and host of this layer's process-local keys (<c>{prefix}{name}.{client}!</c>):
/// on a dedicated connection and a thread of its own (<see cref="PumpThread"/>: its pops never wait in the thread pool), <c>BZMPOP timeout n keys… MIN COUNT 128</c> pops up to 128 messages of
/// one key in one blocking request (Redis 7 and later; older servers get <c>BZPOPMIN</c>, then
/// non-blocking <c>ZPOPMIN key 128</c> while messages keep coming). Each message is handed to
/// <see cref="_deliver"/> for the local channels it names, in score order, by a second loop (the hand-over):
/// the pops do not wait for the hand-over, so the key in Redis is emptied as fast as Redis answers and does
/// not reach its capacity (100 by default, which would make group sends skip every channel of this process)
/// while a burst is being handed to the channels' buffers. Up to <see cref="MaxPending"/> popped messages
/// may wait for the hand-over; beyond that the pops wait, and messages wait in Redis (under its capacity, as
/// with channels_redis). Survives Redis going away: it logs, backs off (0.1 s doubling to 5 s) and resumes
/// when Redis is back.
/// </summary>
/// <remarks>
/// Before each pop the pump samples every key's count of this layer's sends through Redis that have
/// ended, and when a pop leaves a key empty it marks that sample drained (<see cref="LocalKey.MarkDrained"/>) once the
/// hand-over has delivered everything popped before: this is what lets sends to the key go in-process without
/// overtaking one still in Redis or still waiting for the hand-over. While a key
/// is behind (such a send may still be there), the pump pops without blocking (<c>ZMPOP</c>), so that an
/// empty answer, and with it the switch, comes one round trip after the last of those sends.
/// A key added while the pump is blocked (a channel made with a new prefix) wakes it with <c>CLIENT UNBLOCK</c>, so the
/// next pop names the key at once rather than after the blocking-pop timeout (5 s by default).
/// </remarks>
internal sealed class ReceivePump : IAsyncDisposable
{
    /// <summary>Messages one pop takes at most.</summary>
    public const int BatchSize = 128;

    /// <summary>Popped messages that may wait for the hand-over before the pops wait for it.</summary>
    public const int MaxPending = 8 * 1024;

    private readonly RedisShard _shard;
    private readonly Action<RedisKey, ReadOnlyMemory<byte>, double> _deliver;
    private readonly int _blockSeconds;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private LocalKey[] _keys = [];
    private readonly Channel<Popped> _handOver = Channel.CreateUnbounded<Popped>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private volatile Task? _loop;
    private Task? _handOverLoop;
    private int _pending;
    private TaskCompletionSource? _room;
    private volatile bool _failing;
    private ConnectionMultiplexer? _blocking;
    private bool _noBzmpop;

    /// <summary>The keys the pump's current (or next) pop names: stale while a key added since is not among them.</summary>
    private volatile LocalKey[] _popping = [];

    /// <summary>The blocking connection's client on the node the pops go to, while a blocking pop is in flight.</summary>
    private volatile BlockedClient? _blocked;
    private BlockedClient? _client;
    private int _waking;

    public ReceivePump(RedisShard shard, Action<RedisKey, ReadOnlyMemory<byte>, double> deliver, TimeSpan blockTimeout, ILogger logger)
    {
        _shard = shard;
        _deliver = deliver;
        _blockSeconds = Math.Max(1, (int)Math.Ceiling(blockTimeout.TotalSeconds));
        _logger = logger;
    }

    /// <summary>True while the pump runs and its last attempt to reach Redis did not fail.</summary>
    public bool IsReading => _loop is { IsCompleted: false } && !_failing;

    /// <summary>Makes sure <paramref name="key"/> is read (a new key is picked up by the next pop).</summary>
    public void EnsureKey(LocalKey key)
    {
        lock (_gate)
        {
            if (Array.IndexOf(_keys, key) < 0)
            {
                _keys = [.. _keys, key];
                key.AttachTo(this);
            }

            if (_loop is null)
            {
                _handOverLoop = Task.Run(HandOverLoopAsync);
                _loop = PumpThread.Run($"channels.net pump {_shard.Host}", RunAsync);
                return;
            }
        }

        Wake();
    }

    /// <summary>
    /// While the pump's pop does not name every key, ends its blocking pop (<c>CLIENT UNBLOCK</c>, which Redis answers as a
    /// timeout: the keys it named were empty all along) until it pops again with them. Gives up after one blocking-pop
    /// timeout, after which the pump has read the keys anyway.
    /// </summary>
    private void Wake()
    {
        if (Interlocked.Exchange(ref _waking, 1) == 0)
        {
            _ = WakeAsync();
        }
    }

    private async Task WakeAsync()
    {
        var deadline = Environment.TickCount64 + (_blockSeconds * 1000L);
        var done = false;
        try
        {
            while (!_stop.IsCancellationRequested && Environment.TickCount64 < deadline)
            {
                if (ReferenceEquals(_popping, Volatile.Read(ref _keys)))
                {
                    done = true;
                    break;
                }

                if (_blocked is { } blocked)
                {
                    var commands = await _shard.CommandsAsync().ConfigureAwait(false);
                    await commands.Multiplexer.GetServer(blocked.EndPoint).ExecuteAsync("CLIENT", "UNBLOCK", blocked.Id).ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(2), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            PumpLog.PumpWakeFailed(_logger, _shard.Host.ToString(), ex.Message);
        }
        catch (Exception)
        {
            // Disposed.
        }
        finally
        {
            Volatile.Write(ref _waking, 0);
        }

        if (done && !ReferenceEquals(_popping, Volatile.Read(ref _keys)))
        {
            Wake(); // A key came while this wake-up was ending.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_blocking is not null)
        {
            // Ends a blocking pop in flight at once.
            await _blocking.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _handOver.Writer.TryComplete();
        if (_handOverLoop is not null)
        {
            await _handOverLoop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        LocalKey[] keys = [];
        object[] blockingPop = [];
        object[] pop = [];
        var ended = Array.Empty<long>();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_blocking is { } held && !_shard.IsCurrent(held))
                {
                    // A Sentinel master moved: the next pop goes to the new one.
                    _blocking = null;
                    _shard.ReturnBlocking(held);
                }

                _blocking ??= await _shard.RentBlockingAsync().ConfigureAwait(true);
                if (!ReferenceEquals(keys, Volatile.Read(ref _keys)))
                {
                    keys = Volatile.Read(ref _keys);
                    (blockingPop, pop) = PopArguments(keys);
                    ended = new long[keys.Length];
                    _popping = keys;
                }

                var behind = false;
                for (var i = 0; i < keys.Length; i++)
                {
                    ended[i] = keys[i].SampleWireSendsEnded();
                    keys[i].MarkRead();
                    behind |= keys[i].IsBehind;
                }

                await WaitForRoomAsync().ConfigureAwait(true);
                var database = _shard.Database(_blocking);
                if (!behind)
                {
                    _blocked = await BlockedClientAsync(_blocking, keys[0].Key).ConfigureAwait(true);
                }

                try
                {
                    if (_noBzmpop)
                    {
                        await PopLegacyAsync(database, keys, ended, block: !behind).ConfigureAwait(true);
                    }
                    else if (behind)
                    {
                        await PopAsync(database, "ZMPOP", pop, keys, ended, behind: true).ConfigureAwait(true);
                    }
                    else
                    {
                        await PopAsync(database, "BZMPOP", blockingPop, keys, ended, behind: false).ConfigureAwait(true);
                    }
                }
                finally
                {
                    _blocked = null;
                }

                if (_failing)
                {
                    _failing = false;
                    delay = TimeSpan.FromMilliseconds(100);
                    PumpLog.PumpRecovered(_logger, _shard.Host.ToString());
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (RedisServerException ex) when (!_noBzmpop && ex.Message.StartsWith("ERR unknown command", StringComparison.OrdinalIgnoreCase))
            {
                _noBzmpop = true; // Redis before 7.0: BZPOPMIN and ZPOPMIN from now on.
            }
            catch (Exception ex) when (ex is RedisException or RedisTimeoutException or RedisConnectionException or ObjectDisposedException or InvalidOperationException or TimeoutException)
            {
                _failing = true;
                PumpLog.PumpRetrying(_logger, _shard.Host.ToString(), ex.Message, (int)delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _stop.Token).ConfigureAwait(true);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>
    /// The client id of <paramref name="connection"/> on the node that holds <paramref name="key"/> (<c>CLIENT ID</c>, asked
    /// once per connection and node), for <see cref="Wake"/>; null when the server refuses <c>CLIENT ID</c>.
    /// </summary>
    private async Task<BlockedClient?> BlockedClientAsync(ConnectionMultiplexer connection, RedisKey key)
    {
        var server = connection.GetServer(key);
        if (_client is { } known && ReferenceEquals(known.Connection, connection) && Equals(known.EndPoint, server.EndPoint))
        {
            return known.Id < 0 ? null : known;
        }

        long id;
        try
        {
            id = (long)await server.ExecuteAsync("CLIENT", "ID").ConfigureAwait(true);
        }
        catch (Exception ex) when (ex is RedisServerException or RedisCommandException)
        {
            PumpLog.PumpWakeFailed(_logger, _shard.Host.ToString(), ex.Message);
            id = -1; // An ACL that forbids CLIENT: new keys are read once a pop times out.
        }

        _client = new BlockedClient(connection, server.EndPoint, id);
        return id < 0 ? null : _client;
    }

    /// <summary>One <c>BZMPOP</c> or <c>ZMPOP</c>: up to <see cref="BatchSize"/> messages of the first key that has any.</summary>
    private async Task PopAsync(IDatabase database, string command, object[] arguments, LocalKey[] keys, long[] ended, bool behind)
    {
        var result = await database.ExecuteAsync(command, arguments).ConfigureAwait(true);
        if (result.IsNull)
        {
            await HandOverAsync(new Popped(default, [], AllDrained(keys, ended)), wait: behind).ConfigureAwait(true); // Every key was empty.
            return;
        }

        var popped = (RedisResult[])result!;
        var index = IndexOf(keys, (string)popped[0]!);
        var key = index >= 0 ? keys[index].Key : (RedisKey)(string)popped[0]!;
        var entries = (RedisResult[])popped[1]!;
        var messages = new (byte[] Member, double Score)[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var pair = (RedisResult[])entries[i]!;
            messages[i] = ((byte[])pair[0]!, (double)pair[1]);
        }

        var drained = index >= 0 && entries.Length < BatchSize ? Drained(keys, ended, index) : null;
        await HandOverAsync(new Popped(key, messages, drained), wait: behind && drained is not null).ConfigureAwait(true);
    }

    /// <summary>
    /// Redis before 7.0: one <c>BZPOPMIN</c>, then <c>ZPOPMIN key 128</c> until the key is empty; without
    /// <paramref name="block"/>, only the <c>ZPOPMIN</c>s, key after key.
    /// </summary>
    private async Task PopLegacyAsync(IDatabase database, LocalKey[] keys, long[] ended, bool block)
    {
        if (!block)
        {
            for (var i = 0; i < keys.Length; i++)
            {
                await DrainAsync(database, keys, ended, i, keys[i].Key, wait: true).ConfigureAwait(true);
            }

            return;
        }

        var arguments = new object[keys.Length + 1];
        for (var i = 0; i < keys.Length; i++)
        {
            arguments[i] = keys[i].Key;
        }

        arguments[^1] = _blockSeconds;
        var result = await database.ExecuteAsync("BZPOPMIN", arguments).ConfigureAwait(true);
        if (result.IsNull)
        {
            await HandOverAsync(new Popped(default, [], AllDrained(keys, ended)), wait: false).ConfigureAwait(true);
            return;
        }

        var popped = (RedisResult[])result!;
        var index = IndexOf(keys, (string)popped[0]!);
        var key = index >= 0 ? keys[index].Key : (RedisKey)(string)popped[0]!;
        await HandOverAsync(new Popped(key, [((byte[])popped[1]!, (double)popped[2])], null), wait: false).ConfigureAwait(true);
        await DrainAsync(database, keys, ended, index, key, wait: false).ConfigureAwait(true);
    }

    /// <summary>Takes what waits in <paramref name="key"/> in batches without blocking; marks it drained once empty
    /// (with <paramref name="wait"/>, returns only once the hand-over has done so).</summary>
    private async Task DrainAsync(IDatabase database, LocalKey[] keys, long[] ended, int index, RedisKey key, bool wait)
    {
        while (!_stop.IsCancellationRequested)
        {
            await WaitForRoomAsync().ConfigureAwait(true);
            var batch = await database.SortedSetPopAsync(key, BatchSize, Order.Ascending).ConfigureAwait(true);
            var messages = new (byte[] Member, double Score)[batch.Length];
            for (var i = 0; i < batch.Length; i++)
            {
                messages[i] = ((byte[])batch[i].Element!, batch[i].Score);
            }

            var last = batch.Length < BatchSize;
            await HandOverAsync(new Popped(key, messages, last && index >= 0 ? Drained(keys, ended, index) : null), wait: wait && last).ConfigureAwait(true);
            if (last)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="popped"/> for the hand-over loop; with <paramref name="wait"/>, returns once it was handed
    /// over (a key that is behind is popped again only once its drained mark is set: no empty pops in a tight loop).
    /// </summary>
    private async Task HandOverAsync(Popped popped, bool wait)
    {
        if (wait)
        {
            popped.Done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        Interlocked.Add(ref _pending, popped.Messages.Length);
        if (!_handOver.Writer.TryWrite(popped))
        {
            return; // Disposed.
        }

        if (popped.Done is { } done)
        {
            await done.Task.WaitAsync(_stop.Token).ConfigureAwait(true);
        }
    }

    /// <summary>Waits while <see cref="MaxPending"/> popped messages wait for the hand-over.</summary>
    private async ValueTask WaitForRoomAsync()
    {
        while (Volatile.Read(ref _pending) >= MaxPending)
        {
            var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _room, room);
            if (Volatile.Read(ref _pending) < MaxPending)
            {
                return;
            }

            await room.Task.WaitAsync(_stop.Token).ConfigureAwait(true);
        }
    }

    /// <summary>The hand-over loop: delivers what the pops took, in the order they took it, then sets the drained marks.</summary>
    private async Task HandOverLoopAsync()
    {
        var reader = _handOver.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var popped))
            {
                if (!_stop.IsCancellationRequested)
                {
                    foreach (var (member, score) in popped.Messages)
                    {
                        try
                        {
                            _deliver(popped.Key, member, score);
                        }
                        catch (Exception ex) when (ex is not OutOfMemoryException)
                        {
                            WireLog.UndecodableMessage(_logger, popped.Key.ToString(), $"handing it to its channels failed: {ex.Message}");
                        }
                    }

                    if (popped.Drained is { } drained)
                    {
                        foreach (var (key, ended) in drained)
                        {
                            key.MarkDrained(ended);
                        }
                    }
                }

                popped.Done?.TrySetResult();
                if (Interlocked.Add(ref _pending, -popped.Messages.Length) < MaxPending && popped.Messages.Length > 0)
                {
                    Volatile.Read(ref _room)?.TrySetResult();
                }
            }
        }
    }

    private static (LocalKey Key, long Ended)[] Drained(LocalKey[] keys, long[] ended, int index) => [(keys[index], ended[index])];

    private static (LocalKey Key, long Ended)[] AllDrained(LocalKey[] keys, long[] ended)
    {
        var drained = new (LocalKey, long)[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            drained[i] = (keys[i], ended[i]);
        }

        return drained;
    }

    /// <summary>What one pop took, for the hand-over: the messages of one key, and the keys that pop left empty.</summary>
    private sealed class Popped(RedisKey key, (byte[] Member, double Score)[] messages, (LocalKey Key, long Ended)[]? drained)
    {
        public RedisKey Key { get; } = key;

        public (byte[] Member, double Score)[] Messages { get; } = messages;

        /// <summary>The keys the pop left empty, with the sample of sends ended taken before it.</summary>
        public (LocalKey Key, long Ended)[]? Drained { get; } = drained;

        /// <summary>Set once handed over, when the pump waits for it.</summary>
        public TaskCompletionSource? Done { get; set; }
    }

    /// <summary>A blocking connection's client id on one node.</summary>
    private sealed record BlockedClient(ConnectionMultiplexer Connection, System.Net.EndPoint EndPoint, long Id);

    /// <summary>The arguments of <c>BZMPOP timeout numkeys key… MIN COUNT n</c> and of <c>ZMPOP numkeys key… MIN COUNT n</c>.</summary>
    private (object[] Blocking, object[] NonBlocking) PopArguments(LocalKey[] keys)
    {
        var pop = new object[keys.Length + 4];
        pop[0] = keys.Length;
        for (var i = 0; i < keys.Length; i++)
        {
            pop[i + 1] = keys[i].Key;
        }

        pop[^3] = "MIN";
        pop[^2] = "COUNT";
        pop[^1] = BatchSize;
        return ([_blockSeconds, .. pop], pop);
    }

    private static int IndexOf(LocalKey[] keys, string key)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i].Key == key)
            {
                return i;
            }
        }

        return -1;
    }
}
