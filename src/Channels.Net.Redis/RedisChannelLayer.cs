using System.Collections.Concurrent;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Channels.Net.Redis.Cluster;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Receiving;
using Channels.Net.Redis.Sending;
using Channels.Net.Redis.Sharding;
using Channels.Net.Redis.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis;

/// <summary>
/// The Redis channel layer, wire-compatible with channels_redis's <c>RedisChannelLayer</c>: the same
/// keys, scores, members and message bytes (msgpack, optionally Fernet-encrypted), so Django and
/// .NET processes on one Redis share channels and groups.
/// </summary>
/// <remarks>
/// <para>Each operation is one Lua script (one round trip) doing the commands channels_redis does; a group send
/// to members that did not change is one, checked against this layer's copy of them (otherwise two: members, then
/// one script per host).</para>
/// <para>The class is split by job over four files: this one (set-up, flush, disposal, running commands),
/// <c>RedisChannelLayer.Send.cs</c>, <c>RedisChannelLayer.Receive.cs</c> and <c>RedisChannelLayer.Groups.cs</c>.</para>
/// <para>Process-local channels (<c>specific.{client}!{id}</c>) are read by one receive pump per
/// process and host, on a dedicated connection (<c>BZMPOP … COUNT 128</c>), and buffered per channel
/// in memory (bounded by <see cref="RedisChannelLayerOptions.Capacity"/>; a full buffer drops the newest
/// message and logs it). Plain channels are popped directly; a receive cancelled while its pop was in
/// flight puts the message back with its score.</para>
/// <para>A send or group send from this layer to one of its own process-local channels skips Redis and
/// goes straight to that buffer while the pump reads the channel's key and nothing this layer sent to
/// the key through Redis is still there: what the channel's consumer, the sender and Redis see is
/// then what the trip through Redis would have given them (see <see cref="LocalKey"/>).</para>
/// <para>While Redis is unreachable, sends fail at once with <see cref="ChannelLayerUnavailableException"/>,
/// and the pump logs, backs off and resumes when Redis is back.</para>
/// <para>With <see cref="RedisChannelLayerOptions.Cluster"/>, the hosts are seeds of one Redis Cluster and
/// the keys stay the same; every script and multi-key command is split so it touches one hash slot: a
/// group send makes one script call per slot (pipelined), there is one receive pump per slot of this
/// layer's keys, and flush scans every primary.</para>
/// </remarks>
public sealed partial class RedisChannelLayer : IChannelLayer, IListeningChannelLayer
{
    private static readonly DateTimeOffset s_epoch = DateTimeOffset.UnixEpoch;

    /// <summary>How often a command refused by a cluster in the middle of a slot move is tried (over about 0.6 s).</summary>
    private const int ClusterAttempts = 6;

    /// <summary>The longest a copy of a group's members lives in Redis (seconds; the group expiry when shorter): a copy left
    /// behind (a process that stopped) lapses within the hour, and a group's members are read again at least that often.</summary>
    internal const long MemberCopySeconds = 3600;

    private readonly RedisShard[] _shards;
    private readonly bool _cluster;
    private readonly bool[] _modeChecked;
    private readonly string _prefix;
    private readonly long _expirySeconds;
    private readonly long _groupExpirySeconds;
    private readonly ChannelCapacities _capacities;
    private readonly ChannelsRedisSerializer _serializer;
    private readonly InMemoryChannelLayer _local;
    private readonly ConcurrentDictionary<int, ReceivePump> _pumps = new();
    private readonly LocalKeys _localKeys;
    private readonly GroupSendPlanner _planner;
    private readonly GroupMemberCache _knownMembers = new();
    private readonly long _memberCopySeconds;
    private volatile bool _noMemberCopies;
    private long _memberCopies;
    private readonly Utf8NameLookup _localNames;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
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
        _memberCopySeconds = Math.Clamp(_groupExpirySeconds, 1, MemberCopySeconds);
        _capacities = new ChannelCapacities(options.Capacity, options.ChannelCapacity);
        _serializer = new ChannelsRedisSerializer(MessageCiphers.Create([.. options.SymmetricEncryptionKeys], options.Cipher, options.Expiry, options.TimeProvider, _logger));
        var hosts = options.Hosts.Count == 0 ? [RedisHost.Default] : options.Hosts.ToArray();
        _cluster = options.Cluster;
        ClientPrefix = Guid.NewGuid().ToString("N");
        _shards = _cluster
            ? [new RedisShard(hosts[0], 0, options.ConnectTimeout, options.BlockingPopTimeout, _logger, ClientPrefix, clusterSeeds: hosts)]
            : [.. hosts.Select((host, i) => new RedisShard(host, i, options.ConnectTimeout, options.BlockingPopTimeout, _logger, ClientPrefix))];
        _modeChecked = new bool[_shards.Length];
        _localKeys = new LocalKeys(_prefix, ClientPrefix, _shards.Length);
        _planner = new GroupSendPlanner(_prefix, _capacities, _localKeys, _shards.Length);

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
        _localNames = LookUpLocalName;
    }

    /// <summary>The options this layer was made with.</summary>
    public RedisChannelLayerOptions Options { get; }

    /// <summary>This layer instance's part of its process-local channel names (channels_redis's <c>client_prefix</c>).</summary>
    public string ClientPrefix { get; }

    /// <inheritdoc />
    public ChannelLayerExtensions Extensions => ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush;

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
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        if (_cluster)
        {
            await RunAsync(_shards[0], db => ClusterFlush.FlushAsync(db, EscapeGlob(_prefix) + "*")).ConfigureAwait(false);
        }
        else
        {
            foreach (var shard in _shards)
            {
                await RunAsync(shard, db => db.ScriptEvaluateAsync(LuaScripts.Flush, values: [EscapeGlob(_prefix) + "*"])).ConfigureAwait(false);
            }
        }

        await _local.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when a send to this layer's process-local <paramref name="channel"/> would now skip Redis (tests watch the switch).</summary>
    internal bool DeliversInProcess(string channel) =>
        IsOwnLocalChannel(channel) && _localKeys.Get(channel.AsSpan(0, channel.IndexOf('!', StringComparison.Ordinal) + 1)).DeliversInProcess;

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

    /// <summary>
    /// Runs <paramref name="command"/> on the host; a lost host is <see cref="ChannelLayerUnavailableException"/>.
    /// On a cluster, so is a failed primary not yet replaced (<c>CLUSTERDOWN</c>); a command refused for a
    /// slot in the middle of a move (<c>TRYAGAIN</c>, a redirect not followed) is tried again a few times
    /// (the node refused it before running anything), then is <see cref="ChannelLayerUnavailableException"/> too.
    /// </summary>
    private async Task<T> RunAsync<T>(RedisShard shard, Func<IDatabase, Task<T>> command)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var database = await shard.CommandsAsync().ConfigureAwait(false);
                if (!Volatile.Read(ref _modeChecked[shard.Index]) && ClusterMode.Check(database.Multiplexer, _cluster, shard.Host.ToString()) == true)
                {
                    Volatile.Write(ref _modeChecked[shard.Index], true);
                }

                return await command(database).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (_cluster && ClusterErrors.IsInFlux(ex))
            {
                if (attempt >= ClusterAttempts)
                {
                    throw Unavailable(shard, ex);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(10 << attempt)).ConfigureAwait(false);
            }
            catch (Exception ex) when (RedisShard.IsUnavailable(ex) || (_cluster && ex is RedisServerException server && ClusterErrors.IsDown(server)))
            {
                throw Unavailable(shard, ex);
            }
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

    private int GroupShardIndex(string group) => ConsistentHash.Index(group, _shards.Length);

    private RedisShard GroupShard(string group) => _shards[GroupShardIndex(group)];

    private string GroupKey(string group) => $"{_prefix}:group:{group}";

    private double Now() => (_time.GetUtcNow() - s_epoch).Ticks / (double)TimeSpan.TicksPerSecond;

    private static long Cutoff(double now, long seconds) => (long)Math.Floor(now) - seconds;

    private int NextIndex(ref int counter) => _shards.Length == 1 ? 0 : (int)((uint)Interlocked.Increment(ref counter) % (uint)_shards.Length);

    private static string EscapeGlob(string prefix) =>
        prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal)
            .Replace("?", "\\?", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
