using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Channels.Net.Redis.Receiving;

/// <summary>
/// The one reader per process and host of the process-local keys (<c>{prefix}specific.{client}!</c>):
/// a blocking pop on a dedicated connection, then batched non-blocking pops while messages keep
/// coming, each message handed to <see cref="_deliver"/> for the local channels it names. Survives
/// Redis going away: it logs, backs off (0.1 s doubling to 5 s) and resumes when Redis is back.
/// </summary>
internal sealed class ReceivePump : IAsyncDisposable
{
    private const int BatchSize = 128;
    private readonly RedisShard _shard;
    private readonly Action<RedisKey, ReadOnlyMemory<byte>, double> _deliver;
    private readonly int _blockSeconds;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private RedisKey[] _keys = [];
    private volatile Task? _loop;
    private ConnectionMultiplexer? _blocking;

    public ReceivePump(RedisShard shard, Action<RedisKey, ReadOnlyMemory<byte>, double> deliver, TimeSpan blockTimeout, ILogger logger)
    {
        _shard = shard;
        _deliver = deliver;
        _blockSeconds = Math.Max(1, (int)Math.Ceiling(blockTimeout.TotalSeconds));
        _logger = logger;
    }

    /// <summary>Makes sure <paramref name="key"/> is read (a new key is picked up by the next pop).</summary>
    public void EnsureKey(string key)
    {
        if (_loop is not null && Array.IndexOf(Volatile.Read(ref _keys), (RedisKey)key) >= 0)
        {
            return; // Already read: the common case, once per receive.
        }

        lock (_gate)
        {
            if (Array.IndexOf(_keys, (RedisKey)key) < 0)
            {
                _keys = [.. _keys, key];
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
        var failing = false;
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
                var keys = _keys;
                var args = new object[keys.Length + 1];
                for (var i = 0; i < keys.Length; i++)
                {
                    args[i] = keys[i];
                }

                args[^1] = _blockSeconds;
                var result = await _shard.Database(_blocking).ExecuteAsync("BZPOPMIN", args).ConfigureAwait(false);
                if (failing)
                {
                    failing = false;
                    delay = TimeSpan.FromMilliseconds(100);
                    RedisLog.PumpRecovered(_logger, _shard.Host.ToString());
                }

                if (result.IsNull)
                {
                    continue;
                }

                var popped = (RedisResult[])result!;
                var key = (RedisKey)(string)popped[0]!;
                _deliver(key, (byte[])popped[1]!, (double)popped[2]);
                await DrainAsync(key).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RedisException or RedisTimeoutException or RedisConnectionException or ObjectDisposedException or InvalidOperationException or TimeoutException)
            {
                failing = true;
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

    /// <summary>After one blocking pop, takes what else is waiting in batches without blocking.</summary>
    private async Task DrainAsync(RedisKey key)
    {
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
                return;
            }
        }
    }
}
