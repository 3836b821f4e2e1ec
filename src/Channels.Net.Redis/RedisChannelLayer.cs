using System.Collections.Concurrent;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Receiving;
using Channels.Net.Redis.Sharding;
using Channels.Net.Redis.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Redis;

/// <summary>
/// The Redis channel layer, wire-compatible with channels_redis's <c>RedisChannelLayer</c>: the same
/// keys, scores, members and message bytes (msgpack, optionally Fernet-encrypted), so Django and
/// .NET processes on one Redis share channels and groups.
/// </summary>
/// <remarks>
/// <para>Each operation is one Lua script (one round trip) doing the commands channels_redis does;
/// a group send is two (members, then one script per host).</para>
/// <para>Process-local channels (<c>specific.{client}!{id}</c>) are read by one receive pump per
/// process and host, on a dedicated connection, and buffered per channel in memory (bounded by
/// <see cref="RedisChannelLayerOptions.Capacity"/>; a full buffer drops the newest message and logs
/// it). Plain channels are popped directly; a receive cancelled while its pop was in flight puts the
/// message back with its score.</para>
/// <para>While Redis is unreachable, sends fail at once with <see cref="ChannelLayerUnavailableException"/>,
/// and the pump logs, backs off and resumes when Redis is back.</para>
/// </remarks>
public sealed partial class RedisChannelLayer : IChannelLayer
{
    private static readonly DateTimeOffset s_epoch = DateTimeOffset.UnixEpoch;

    private readonly RedisShard[] _shards;
    private readonly string _prefix;
    private readonly long _expirySeconds;
    private readonly long _groupExpirySeconds;
    private readonly ChannelCapacities _capacities;
    private readonly ChannelsRedisSerializer _serializer;
    private readonly InMemoryChannelLayer _local;
    private readonly ConcurrentDictionary<int, ReceivePump> _pumps = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _localMarker;
    private int _sendIndex = -1;
    private int _receiveIndex = -1;
    private volatile bool _disposed;

    /// <summary>Creates the layer; connections are made on first use.</summary>
    /// <exception cref="ArgumentException">An option is wrong (the message names it).</exception>
    public RedisChannelLayer(RedisChannelLayerOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = loggerFactory?.CreateLogger<RedisChannelLayer>() ?? (ILogger)NullLogger.Instance;
        _time = options.TimeProvider;
        _prefix = options.Prefix;
        _expirySeconds = (long)options.Expiry.TotalSeconds;
        _groupExpirySeconds = (long)options.GroupExpiry.TotalSeconds;
        _capacities = new ChannelCapacities(options.Capacity, options.ChannelCapacity);
        _serializer = new ChannelsRedisSerializer(MessageCiphers.Create(options, _logger));
        var hosts = options.Hosts.Count == 0 ? [RedisHost.Default] : options.Hosts.ToArray();
        _shards = [.. hosts.Select((host, i) => new RedisShard(host, i, options.ConnectTimeout, options.BlockingPopTimeout, _logger))];
        ClientPrefix = Guid.NewGuid().ToString("N");
        _localMarker = ClientPrefix + "!";

        var localOptions = new InMemoryChannelLayerOptions
        {
            Expiry = options.Expiry,
            GroupExpiry = options.GroupExpiry,
            Capacity = options.Capacity,
            TimeProvider = options.TimeProvider,
        };
        foreach (var rule in options.ChannelCapacity)
        {
            localOptions.ChannelCapacity.Add(rule);
        }

        _local = new InMemoryChannelLayer(localOptions, loggerFactory?.CreateLogger<InMemoryChannelLayer>());
    }

    /// <summary>The options this layer was made with.</summary>
    public RedisChannelLayerOptions Options { get; }

    /// <summary>This layer instance's part of its process-local channel names (channels_redis's <c>client_prefix</c>).</summary>
    public string ClientPrefix { get; }

    /// <inheritdoc />
    public ChannelLayerExtensions Extensions => ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush;

    /// <inheritdoc />
    public async ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        byte[] member;
        RedisShard shard;
        string key;
        if (ChannelNames.IsProcessLocal(channel))
        {
            // Hash the non-local name, where the receiver reads (channels_redis #221 hashes the full name).
            var nonLocal = ChannelNames.NonLocalName(channel);
            key = _prefix + nonLocal;
            shard = _shards[ConsistentHash.Index(nonLocal, _shards.Length)];
            member = _serializer.Serialize(message, channel);
        }
        else
        {
            key = _prefix + channel;
            shard = _shards[NextIndex(ref _sendIndex)];
            member = _serializer.Serialize(message);
        }

        var now = Now();
        var added = await RunAsync(shard, db => db.ScriptEvaluateAsync(
            LuaScripts.Send,
            [key],
            [member, now, Cutoff(now, _expirySeconds), _capacities.GetCapacity(channel), _expirySeconds])).ConfigureAwait(false);
        if ((long)added == 0)
        {
            throw new ChannelFullException(channel, _capacities.GetCapacity(channel));
        }
    }

    /// <inheritdoc />
    public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ChannelMessage>(cancellationToken);
        }

        if (!ChannelNames.IsProcessLocal(channel))
        {
            return ReceivePlainAsync(channel, cancellationToken);
        }

        var nonLocal = ChannelNames.NonLocalName(channel);
        if (!nonLocal.EndsWith(_localMarker, StringComparison.Ordinal))
        {
            throw new InvalidChannelNameException(
                $"Channel name {ChannelNames.Show(channel)} was not made by this layer: a process receives only on the process-local channels its own layer created (their names hold '{ClientPrefix}!').",
                channel,
                nameof(channel));
        }

        var index = ConsistentHash.Index(nonLocal, _shards.Length);
        _pumps.GetOrAdd(index, static (i, layer) => new ReceivePump(layer._shards[i], layer.Deliver, layer.Options.BlockingPopTimeout, layer._logger), this)
            .EnsureKey(_prefix + nonLocal);
        return _local.ReceiveAsync(channel, cancellationToken);
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

        return ValueTask.FromResult(ChannelNames.NewProcessLocalName(prefix, ClientPrefix, Guid.NewGuid().ToString("N")));
    }

    /// <inheritdoc />
    public async ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        await RunAsync(GroupShard(group), db => db.ScriptEvaluateAsync(
            LuaScripts.GroupAdd,
            [GroupKey(group)],
            [channel, Now(), _groupExpirySeconds])).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        await RunAsync(GroupShard(group), db => db.SortedSetRemoveAsync(GroupKey(group), channel)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var now = Now();
        // Pipelined (one round trip, as channels_redis issues them): a Lua script costs more here,
        // converting every member name to a table and back.
        var groupKey = GroupKey(group);
        var memberValues = await RunAsync(GroupShard(group), db =>
        {
            var batch = db.CreateBatch();
            var lapsed = batch.SortedSetRemoveRangeByScoreAsync(groupKey, 0, Cutoff(now, _groupExpirySeconds));
            var range = batch.SortedSetRangeByRankAsync(groupKey);
            batch.Execute();
            return BothAsync(lapsed, range);
        }).ConfigureAwait(false);
        var members = Array.ConvertAll(memberValues, static m => (string)m!);
        if (members.Length == 0)
        {
            return;
        }

        // One message per channel key, naming every member channel stored under it (channels_redis's bucketing).
        var buckets = new Dictionary<string, (List<string> Channels, int Shard, int Capacity)>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            if (!ChannelNames.IsValidChannelName(member))
            {
                continue; // Another writer put something that is no channel name in the group.
            }

            var nonLocal = ChannelNames.NonLocalName(member);
            var key = _prefix + nonLocal;
            if (!buckets.TryGetValue(key, out var bucket))
            {
                bucket = ([], ConsistentHash.Index(nonLocal, _shards.Length), _capacities.GetCapacity(member));
                buckets.Add(key, bucket);
            }

            bucket.Channels.Add(member);
        }

        long over = 0;
        foreach (var byShard in buckets.GroupBy(b => b.Value.Shard))
        {
            var entries = byShard.ToArray();
            var keys = new RedisKey[entries.Length];
            var args = new RedisValue[(2 * entries.Length) + 3];
            for (var i = 0; i < entries.Length; i++)
            {
                keys[i] = entries[i].Key;
                args[i] = _serializer.Serialize(message, entries[i].Value.Channels);
                args[entries.Length + i] = entries[i].Value.Capacity;
            }

            args[^3] = now;
            args[^2] = _expirySeconds;
            args[^1] = Cutoff(now, _expirySeconds);
            var result = await RunAsync(_shards[byShard.Key], db => db.ScriptEvaluateAsync(LuaScripts.GroupSend, keys, args)).ConfigureAwait(false);
            over += (long)result;
        }

        if (over > 0)
        {
            RedisLog.GroupMembersFull(_logger, group, over, members.Length);
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var shard in _shards)
        {
            await RunAsync(shard, db => db.ScriptEvaluateAsync(LuaScripts.Flush, values: [EscapeGlob(_prefix) + "*"])).ConfigureAwait(false);
        }

        await _local.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the receive pumps, fails waiting receives with <see cref="ObjectDisposedException"/>, closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var pump in _pumps.Values)
        {
            await pump.DisposeAsync().ConfigureAwait(false);
        }

        await _local.DisposeAsync().ConfigureAwait(false);
        foreach (var shard in _shards)
        {
            await shard.DisposeAsync().ConfigureAwait(false);
        }

        (_serializer.Cipher as IDisposable)?.Dispose();
    }

    private async ValueTask<ChannelMessage> ReceivePlainAsync(string channel, CancellationToken cancellationToken)
    {
        var shard = _shards[NextIndex(ref _receiveIndex)];
        RedisKey key = _prefix + channel;
        var connection = await RunAsync(shard, async _ => await shard.RentBlockingAsync().ConfigureAwait(false)).ConfigureAwait(false);
        var returned = false;
        try
        {
            while (true)
            {
                ThrowIfDisposed();
                if (!shard.IsCurrent(connection))
                {
                    // A Sentinel master moved: go on against the new one.
                    var stale = connection;
                    connection = await RunAsync(shard, async _ => await shard.RentBlockingAsync().ConfigureAwait(false)).ConfigureAwait(false);
                    shard.ReturnBlocking(stale);
                }

                var pop = shard.Database(connection).ExecuteAsync("BZPOPMIN", key, Math.Max(1, (int)Math.Ceiling(Options.BlockingPopTimeout.TotalSeconds)));
                RedisResult result;
                try
                {
                    result = await pop.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The pop goes on: whatever it takes is put back, and only then is the connection reused.
                    returned = true;
                    _ = RestoreAfterCancelAsync(shard, connection, key, pop);
                    throw;
                }
                catch (Exception ex) when (RedisShard.IsUnavailable(ex))
                {
                    if (!shard.IsCurrent(connection))
                    {
                        continue; // The old master dropped the pop as the master moved.
                    }

                    throw Unavailable(shard, ex);
                }

                if (result.IsNull)
                {
                    continue;
                }

                var popped = (RedisResult[])result!;
                if (IsExpired((double)popped[2]))
                {
                    continue;
                }

                var decoded = TryDecode(key, (byte[])popped[1]!);
                if (decoded is { } message)
                {
                    return message.Message;
                }
            }
        }
        finally
        {
            if (!returned)
            {
                shard.ReturnBlocking(connection);
            }
        }
    }

    private async Task RestoreAfterCancelAsync(RedisShard shard, ConnectionMultiplexer connection, RedisKey key, Task<RedisResult> pop)
    {
        try
        {
            var result = await pop.ConfigureAwait(false);
            if (!result.IsNull)
            {
                var popped = (RedisResult[])result!;
                var commands = await shard.CommandsAsync().ConfigureAwait(false);
                await commands.SortedSetAddAsync(key, (byte[])popped[1]!, (double)popped[2]).ConfigureAwait(false);
            }

            shard.ReturnBlocking(connection);
        }
        catch (Exception ex)
        {
            RedisLog.UndecodableMessage(_logger, key.ToString(), $"a message popped for a cancelled receive could not be put back: {ex.Message}");
        }
    }

    /// <summary>The pump's delivery: decode, then hand to each local channel the message names.</summary>
    private void Deliver(RedisKey key, ReadOnlyMemory<byte> member, double score)
    {
        if (IsExpired(score) || TryDecode(key, member.Span) is not { } decoded)
        {
            return;
        }

        var targets = decoded.TargetChannels;
        if (targets.Count == 0)
        {
            RedisLog.UndecodableMessage(_logger, key.ToString(), "it names no process-local channel (__asgi_channel__ is missing)");
            return;
        }

        foreach (var target in targets)
        {
            if (!ChannelNames.IsValidChannelName(target) || !ChannelNames.IsProcessLocal(target) ||
                !IsOwnLocalChannel(target))
            {
                RedisLog.ForeignChannel(_logger, target);
                continue;
            }

            var send = _local.SendAsync(target, decoded.Message);
            if (!send.IsCompletedSuccessfully)
            {
                try
                {
                    send.AsTask().GetAwaiter().GetResult();
                }
                catch (ChannelFullException full)
                {
                    RedisLog.LocalBufferFull(_logger, target, full.Capacity);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// True for a message older than the expiry, by the cut-off channels_redis uses when it sends
    /// (<c>score &lt;= int(now) - expiry</c>). channels_redis delivers such a message if nothing was sent
    /// after it; this layer drops it on read, as the layer contract says.
    /// </summary>
    private bool IsExpired(double score) => score <= Cutoff(Now(), _expirySeconds);

    /// <summary>True when <paramref name="channel"/>'s non-local part ends with this layer's <c>{client}!</c> (no allocation).</summary>
    private bool IsOwnLocalChannel(string channel)
    {
        var bang = channel.IndexOf('!', StringComparison.Ordinal);
        return bang >= 0 && channel.AsSpan(0, bang + 1).EndsWith(_localMarker, StringComparison.Ordinal);
    }

    private DecodedMessage? TryDecode(RedisKey key, ReadOnlySpan<byte> member)
    {
        try
        {
            return _serializer.Deserialize(member);
        }
        catch (Exception ex) when (ex is WireFormatException or InvalidTokenException or InvalidChannelMessageException)
        {
            RedisLog.UndecodableMessage(_logger, key.ToString(), ex.Message);
            return null;
        }
    }

    private async Task<T> RunAsync<T>(RedisShard shard, Func<IDatabase, Task<T>> command)
    {
        try
        {
            return await command(await shard.CommandsAsync().ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisShard.IsUnavailable(ex))
        {
            throw Unavailable(shard, ex);
        }
    }

    /// <summary>Awaits both pipelined commands (so neither fault goes unobserved) and returns the second's result.</summary>
    private static async Task<T> BothAsync<TFirst, T>(Task<TFirst> first, Task<T> second)
    {
        await first.ConfigureAwait(false);
        return await second.ConfigureAwait(false);
    }

    private static ChannelLayerUnavailableException Unavailable(RedisShard shard, Exception ex) =>
        new($"Redis at {shard.Host} is unavailable: {ex.Message}", ex);

    private RedisShard GroupShard(string group) => _shards[ConsistentHash.Index(group, _shards.Length)];

    private string GroupKey(string group) => $"{_prefix}:group:{group}";

    private double Now() => (_time.GetUtcNow() - s_epoch).Ticks / (double)TimeSpan.TicksPerSecond;

    private static long Cutoff(double now, long seconds) => (long)Math.Floor(now) - seconds;

    private int NextIndex(ref int counter) => _shards.Length == 1 ? 0 : (int)((uint)Interlocked.Increment(ref counter) % (uint)_shards.Length);

    private static string EscapeGlob(string prefix) =>
        prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal)
            .Replace("?", "\\?", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
