using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Channels.Net.Redis.Receiving;

/// <summary>
/// The one reader per process and host of this layer's process-local keys (<c>{prefix}{name}.{client}!</c>):
/// on a dedicated connection, <c>BZMPOP timeout n keys… MIN COUNT 128</c> pops up to 128 messages of
/// one key in one blocking request (Redis 7 and later; older servers get <c>BZPOPMIN</c>, then
/// non-blocking <c>ZPOPMIN key 128</c> while messages keep coming). Each message is handed to
/// <see cref="_deliver"/> for the local channels it names, in score order. Survives Redis going away:
/// it logs, backs off (0.1 s doubling to 5 s) and resumes when Redis is back.
/// </summary>
/// <remarks>
/// Before each pop the pump samples every key's count of this layer's sends through Redis that have
/// ended, and when a pop leaves a key empty it marks that sample drained (<see cref="LocalKey.MarkDrained"/>):
/// this is what lets sends to the key go in-process without overtaking one still in Redis. While a key
/// is behind (such a send may still be there), the pump pops without blocking (<c>ZMPOP</c>), so that an
/// empty answer, and with it the switch, comes one round trip after the last of those sends.
/// </remarks>
internal sealed class ReceivePump : IAsyncDisposable
{
    /// <summary>Messages one pop takes at most.</summary>
    public const int BatchSize = 128;

    private readonly RedisShard _shard;
    private readonly Action<RedisKey, ReadOnlyMemory<byte>, double> _deliver;
    private readonly int _blockSeconds;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private LocalKey[] _keys = [];
    private volatile Task? _loop;
    private volatile bool _failing;
    private ConnectionMultiplexer? _blocking;
    private bool _noBzmpop;

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

            _loop ??= Task.Run(RunAsync);
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

                _blocking ??= await _shard.RentBlockingAsync().ConfigureAwait(false);
                if (!ReferenceEquals(keys, Volatile.Read(ref _keys)))
                {
                    keys = Volatile.Read(ref _keys);
                    (blockingPop, pop) = PopArguments(keys);
                    ended = new long[keys.Length];
                }

                var behind = false;
                for (var i = 0; i < keys.Length; i++)
                {
                    ended[i] = keys[i].SampleWireSendsEnded();
                    keys[i].MarkRead();
                    behind |= keys[i].IsBehind;
                }

                var database = _shard.Database(_blocking);
                if (_noBzmpop)
                {
                    await PopLegacyAsync(database, keys, ended, block: !behind).ConfigureAwait(false);
                }
                else if (behind)
                {
                    await PopAsync(database, "ZMPOP", pop, keys, ended).ConfigureAwait(false);
                }
                else
                {
                    await PopAsync(database, "BZMPOP", blockingPop, keys, ended).ConfigureAwait(false);
                }

                if (_failing)
                {
                    _failing = false;
                    delay = TimeSpan.FromMilliseconds(100);
                    RedisLog.PumpRecovered(_logger, _shard.Host.ToString());
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
                RedisLog.PumpRetrying(_logger, _shard.Host.ToString(), ex.Message, (int)delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>One <c>BZMPOP</c> or <c>ZMPOP</c>: up to <see cref="BatchSize"/> messages of the first key that has any.</summary>
    private async Task PopAsync(IDatabase database, string command, object[] arguments, LocalKey[] keys, long[] ended)
    {
        var result = await database.ExecuteAsync(command, arguments).ConfigureAwait(false);
        if (result.IsNull)
        {
            MarkAllDrained(keys, ended); // Every key was empty.
            return;
        }

        var popped = (RedisResult[])result!;
        var index = IndexOf(keys, (string)popped[0]!);
        var key = index >= 0 ? keys[index].Key : (RedisKey)(string)popped[0]!;
        var entries = (RedisResult[])popped[1]!;
        foreach (var entry in entries)
        {
            var pair = (RedisResult[])entry!;
            _deliver(key, (byte[])pair[0]!, (double)pair[1]);
        }

        if (index >= 0 && entries.Length < BatchSize)
        {
            keys[index].MarkDrained(ended[index]);
        }
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
                await DrainAsync(database, keys, ended, i, keys[i].Key).ConfigureAwait(false);
            }

            return;
        }

        var arguments = new object[keys.Length + 1];
        for (var i = 0; i < keys.Length; i++)
        {
            arguments[i] = keys[i].Key;
        }

        arguments[^1] = _blockSeconds;
        var result = await database.ExecuteAsync("BZPOPMIN", arguments).ConfigureAwait(false);
        if (result.IsNull)
        {
            MarkAllDrained(keys, ended);
            return;
        }

        var popped = (RedisResult[])result!;
        var index = IndexOf(keys, (string)popped[0]!);
        var key = index >= 0 ? keys[index].Key : (RedisKey)(string)popped[0]!;
        _deliver(key, (byte[])popped[1]!, (double)popped[2]);
        await DrainAsync(database, keys, ended, index, key).ConfigureAwait(false);
    }

    /// <summary>Takes what waits in <paramref name="key"/> in batches without blocking; marks it drained once empty.</summary>
    private async Task DrainAsync(IDatabase database, LocalKey[] keys, long[] ended, int index, RedisKey key)
    {
        while (!_stop.IsCancellationRequested)
        {
            var batch = await database.SortedSetPopAsync(key, BatchSize, Order.Ascending).ConfigureAwait(false);
            foreach (var entry in batch)
            {
                _deliver(key, (byte[])entry.Element!, entry.Score);
            }

            if (batch.Length < BatchSize)
            {
                if (index >= 0)
                {
                    keys[index].MarkDrained(ended[index]);
                }

                return;
            }
        }
    }

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

    private static void MarkAllDrained(LocalKey[] keys, long[] ended)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i].MarkDrained(ended[i]);
        }
    }
}
