using System.Collections.Concurrent;
using Channels.Net.Layers;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis.PubSub;

/// <summary>
/// One Redis host of a <see cref="RedisPubSubChannelLayer"/> (channels_redis's <c>RedisSingleShardConnection</c>):
/// one StackExchange.Redis multiplexer, whose subscription connection carries every <c>SUBSCRIBE</c> of this
/// process to the host and whose interactive connection carries the <c>PUBLISH</c>es.
/// </summary>
/// <remarks>
/// <para>Each Redis channel has an ordered <see cref="ChannelMessageQueue"/>, read by one loop, so the
/// messages of one Redis channel are handed on in the order Redis delivered them.</para>
/// <para>The shard does not decide what to subscribe to: <see cref="SyncAsync"/> asks the layer whether a
/// Redis channel is wanted and subscribes or unsubscribes until the answer and the subscription agree,
/// one channel at a time per host (channels_redis holds one lock per shard as well). Concurrent changes
/// to the same channel therefore always end in the state the last one asked for.</para>
/// <para>After a connection loss StackExchange.Redis reconnects and resubscribes every channel by
/// itself; what is published meanwhile is lost, as with any Redis pub/sub.</para>
/// </remarks>
internal sealed class PubSubShard : IAsyncDisposable
{
    private readonly ConfigurationOptions _options;
    private readonly Action<string, RedisValue> _deliver;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly SemaphoreSlim _subscribeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _subscribed = new(StringComparer.Ordinal);
    private volatile ConnectionMultiplexer? _connection;
    private volatile bool _disposed;
    private int _handing;

    /// <param name="host">The host.</param>
    /// <param name="connectTimeout">How long a connection attempt may take.</param>
    /// <param name="deliver">Called, one message at a time per Redis channel, with the Redis channel and the payload.</param>
    /// <param name="logger">The layer's logger.</param>
    public PubSubShard(RedisHost host, TimeSpan connectTimeout, Action<string, RedisValue> deliver, ILogger logger)
    {
        Host = host;
        (_options, _) = RedisAddress.ToConfiguration(host); // pub/sub spans every database: the number does not matter
        _options.AbortOnConnectFail = false;
        _options.ConnectTimeout = (int)connectTimeout.TotalMilliseconds;
        _options.BacklogPolicy = BacklogPolicy.FailFast;
        _options.ClientName = "channels.net.pubsub";
        _deliver = deliver;
        _logger = logger;
    }

    public RedisHost Host { get; }

    /// <summary>How many Redis channels this process is subscribed to on the host.</summary>
    public int SubscriptionCount => _subscribed.Count;

    /// <summary>True when this process is subscribed to <paramref name="redisChannel"/> on the host.</summary>
    public bool IsSubscribed(string redisChannel) => _subscribed.ContainsKey(redisChannel);

    /// <summary><c>PUBLISH</c>.</summary>
    /// <exception cref="ChannelLayerUnavailableException">The host cannot be reached.</exception>
    public async Task PublishAsync(string redisChannel, byte[] payload)
    {
        var connection = await ConnectAsync().ConfigureAwait(false);
        try
        {
            await connection.GetSubscriber().PublishAsync(RedisChannel.Literal(redisChannel), payload).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// Subscribes to or unsubscribes from <paramref name="redisChannel"/> until the subscription matches
    /// <paramref name="isWanted"/>. When it returns, a wanted channel is subscribed (Redis confirmed it).
    /// A failed unsubscribe is logged, not thrown: the channel is forgotten either way.
    /// </summary>
    /// <exception cref="ChannelLayerUnavailableException">A wanted subscription could not be made.</exception>
    public async Task SyncAsync(string redisChannel, Func<string, bool> isWanted)
    {
        if (isWanted(redisChannel) == _subscribed.ContainsKey(redisChannel))
        {
            return;
        }

        await _subscribeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var wanted = isWanted(redisChannel);
                var subscribed = _subscribed.TryGetValue(redisChannel, out var queue);
                if (wanted == subscribed)
                {
                    return;
                }

                if (wanted)
                {
                    await SubscribeCoreAsync(redisChannel).ConfigureAwait(false);
                }
                else
                {
                    await UnsubscribeCoreAsync(redisChannel, queue!).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _subscribeLock.Release();
        }
    }

    /// <summary>Ends every subscription and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _subscribeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connection is { } connection)
            {
                try
                {
                    // Completes every queue (ending its loop); the commands go without waiting for replies.
                    await connection.GetSubscriber().UnsubscribeAllAsync(CommandFlags.FireAndForget).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException)
                {
                    // The connection is going away anyway, and with it the subscriptions.
                }

                _subscribed.Clear();
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _subscribeLock.Release();
        }
    }

    private async Task SubscribeCoreAsync(string redisChannel)
    {
        var connection = await ConnectAsync().ConfigureAwait(false);
        var subscriber = connection.GetSubscriber();
        var channel = RedisChannel.Literal(redisChannel);
        ChannelMessageQueue queue;
        var deadline = Environment.TickCount64 + _options.ConnectTimeout;
        while (true)
        {
            try
            {
                queue = await subscriber.SubscribeAsync(channel).ConfigureAwait(false);
                break;
            }
            catch (RedisConnectionException) when (connection.IsConnected && !_disposed && Environment.TickCount64 < deadline)
            {
                // The host answers commands but the subscription connection is still being made (a new
                // multiplexer connects its two connections separately): wait for it rather than fail.
                await ForgetAsync(subscriber, channel).ConfigureAwait(false);
                await Task.Delay(20).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
            {
                await ForgetAsync(subscriber, channel).ConfigureAwait(false);
                throw Unavailable(ex);
            }
        }

        // Messages that arrived since the SUBSCRIBE went out wait in the queue: none is lost.
        queue.OnMessage(message =>
        {
            Interlocked.Increment(ref _handing);
            try
            {
                _deliver(redisChannel, message.Message);
            }
            finally
            {
                Interlocked.Decrement(ref _handing);
            }
        });
        _subscribed[redisChannel] = queue;
    }

    /// <summary>
    /// Waits until every message Redis pushed to this process before the call has been handed on: a
    /// <c>SUBSCRIBE</c>'s reply on the subscription connection comes back after every message Redis wrote to it before,
    /// and each Redis channel's queue is then read to its end (what <see cref="RedisPubSubChannelLayer.FlushAsync"/>
    /// needs so that nothing published before a flush is delivered after it).
    /// </summary>
    public async Task QuiesceAsync(CancellationToken cancellationToken)
    {
        if (_connection is not { } connection || _subscribed.IsEmpty)
        {
            return;
        }

        try
        {
            // A SUBSCRIBE's reply travels on the subscription connection, behind every message pushed before it.
            var subscriber = connection.GetSubscriber();
            var marker = RedisChannel.Literal("__channels.net__quiesce__" + Guid.NewGuid().ToString("N"));
            var queue = await subscriber.SubscribeAsync(marker).WaitAsync(cancellationToken).ConfigureAwait(false);
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            return; // Nothing more arrives from a lost connection; what is queued is drained below.
        }

        while (Volatile.Read(ref _handing) != 0 || _subscribed.Values.Any(static q => q.TryGetCount(out var count) && count > 0))
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static async Task ForgetAsync(ISubscriber subscriber, RedisChannel channel)
    {
        // StackExchange.Redis registered the queue before it failed; forget it, or it would be
        // resubscribed on reconnect with nobody reading it.
        try
        {
            await subscriber.UnsubscribeAsync(channel, flags: CommandFlags.FireAndForget).ConfigureAwait(false);
        }
        catch (Exception cleanup) when (cleanup is RedisException)
        {
        }
    }

    private async Task UnsubscribeCoreAsync(string redisChannel, ChannelMessageQueue queue)
    {
        _subscribed.TryRemove(redisChannel, out _);
        try
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException)
        {
            PubSubLog.UnsubscribeFailed(_logger, redisChannel, Host.ToString(), ex.Message);
        }
    }

    private async ValueTask<ConnectionMultiplexer> ConnectAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is { } existing)
        {
            return existing;
        }

        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null)
            {
                ConnectionMultiplexer connection;
                try
                {
                    connection = await ConnectionMultiplexer.ConnectAsync(_options).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
                {
                    throw Unavailable(ex);
                }

                connection.ConnectionFailed += (_, e) =>
                    ConnectionLog.ConnectionFailed(_logger, Host.ToString(), $"{e.ConnectionType} {e.FailureType}", e.Exception?.Message ?? "");
                connection.ConnectionRestored += (_, e) =>
                {
                    ConnectionLog.ConnectionRestored(_logger, Host.ToString());
                    if (e.ConnectionType == ConnectionType.Subscription)
                    {
                        PubSubLog.SubscriptionsRestoring(_logger, Host.ToString(), _subscribed.Count);
                    }
                };
                _connection = connection;
            }

            return _connection;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private ChannelLayerUnavailableException Unavailable(Exception ex) =>
        new($"Redis at {Host} is unavailable: {ex.Message}", ex);
}
