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
/// Before each pop the pump samples every key's count of sends through Redis that have ended, and
/// when a pop leaves a key empty it marks that sample drained (<see cref="LocalKey.MarkDrained"/>):
/// this is what lets sends to the key go in-process without overtaking one still in Redis.
/// </remarks>
internal sealed class ReceivePump : IAsyncDisposable
{
    /// <summary>Messages one pop takes at most.</summary>
    public const int BatchSize = 128;

    /// <summary>
    /// How long a pop blocks, in seconds, while a key is behind (this layer's own sends through Redis may
    /// still be there): an empty answer then comes soon, and with it the switch to in-process delivery.
    /// </summary>
    private const double BehindBlockSeconds = 0.05;

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
    public bool IsReading => _loop is not null && !_failing;

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
        object[] bzmpopArgs = [];
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
                    bzmpopArgs = BzmpopArguments(keys);
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
                    // Before Redis 6, BZPOPMIN takes whole seconds only.
                    await PopLegacyAsync(database, keys, ended, behind ? 1 : _blockSeconds).ConfigureAwait(false);
                }
                else
                {
                    bzmpopArgs[0] = behind ? BehindBlockSeconds : _blockSeconds;
                    await PopAsync(database, keys, ended, bzmpopArgs).ConfigureAwait(false);
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

    /// <summary>One <c>BZMPOP</c>: up to <see cref="BatchSize"/> messages of the first key that has any.</summary>
    private async Task PopAsync(IDatabase database, LocalKey[] keys, long[] ended, object[] arguments)
    {
        var result = await database.ExecuteAsync("BZMPOP", arguments).ConfigureAwait(false);
        if (result.IsNull)
        {
            MarkAllDrained(keys, ended); // Timed out: every key was empty.
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

    /// <summary>Redis before 7.0: one <c>BZPOPMIN</c>, then <c>ZPOPMIN key 128</c> until the key is empty.</summary>
    private async Task PopLegacyAsync(IDatabase database, LocalKey[] keys, long[] ended, int timeout)
    {
        var arguments = new object[keys.Length + 1];
        for (var i = 0; i < keys.Length; i++)
        {
            arguments[i] = keys[i].Key;
        }

        arguments[^1] = timeout;
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
        var commands = await _shard.CommandsAsync().ConfigureAwait(false);
        while (!_stop.IsCancellationRequested)
        {
            var batch = await commands.SortedSetPopAsync(key, BatchSize, Order.Ascending).ConfigureAwait(false);
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

    private object[] BzmpopArguments(LocalKey[] keys)
    {
        // BZMPOP timeout numkeys key [key ...] MIN COUNT n
        var arguments = new object[keys.Length + 5];
        arguments[0] = _blockSeconds;
        arguments[1] = keys.Length;
        for (var i = 0; i < keys.Length; i++)
        {
            arguments[i + 2] = keys[i].Key;
        }

        arguments[^3] = "MIN";
        arguments[^2] = "COUNT";
        arguments[^1] = BatchSize;
        return arguments;
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
