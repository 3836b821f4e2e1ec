using System.Collections.Concurrent;
using System.Text;
using Channels.Net.Internal;
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
/// <para>Each operation is one Lua script (one round trip) doing the commands channels_redis does;
/// a group send is two (members, then one script per host).</para>
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
    public async ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var bang = channel.IndexOf('!', StringComparison.Ordinal);
        if (bang < 0)
        {
            await SendThroughRedisAsync(channel, _prefix + channel, _shards[NextIndex(ref _sendIndex)], message, asgiChannel: null, local: null).ConfigureAwait(false);
            return;
        }

        // Hash the non-local name, where the receiver reads (channels_redis #221 hashes the full name).
        var nonLocal = channel.AsSpan(0, bang + 1);
        if (_localKeys.IsOwn(nonLocal))
        {
            var local = _localKeys.Get(nonLocal);
            if (local.DeliversInProcess)
            {
                MessageCodec.Validate(message, withAsgiChannel: true); // refused here if Redis would have refused it
                DeliverInProcess(channel, message);
                return;
            }

            await SendThroughRedisAsync(channel, local.Key, _shards[local.ShardIndex], message, channel, local).ConfigureAwait(false);
            return;
        }

        var nonLocalName = nonLocal.ToString();
        await SendThroughRedisAsync(channel, _prefix + nonLocalName, _shards[ConsistentHash.Index(nonLocalName, _shards.Length)], message, channel, local: null).ConfigureAwait(false);
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

        StartReceivingLocal(channel);
        return _local.ReceiveAsync(channel, cancellationToken);
    }

    /// <inheritdoc />
    bool IListeningChannelLayer.TryReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken, out ChannelMessage? message)
    {
        message = null;
        if (!ChannelNames.IsProcessLocal(channel))
        {
            return false; // A plain channel is popped from Redis by the receive itself.
        }

        if (!_local.HasChannel(channel))
        {
            ChannelNames.RequireValidChannelName(channel); // Checked once: the inbox listens again after every message.
        }

        ThrowIfDisposed();
        StartReceivingLocal(channel);
        return ((IListeningChannelLayer)_local).TryReceiveOrListen(channel, receiver, room, cancellationToken, out message);
    }

    /// <inheritdoc />
    void IListeningChannelLayer.StopListening(string channel) => ((IListeningChannelLayer)_local).StopListening(channel);

    /// <summary>Checks that <paramref name="channel"/> (process-local) is this layer's own, and makes sure a pump reads its key.</summary>
    private void StartReceivingLocal(string channel)
    {
        var nonLocal = channel.AsSpan(0, channel.IndexOf('!', StringComparison.Ordinal) + 1);
        if (!_localKeys.IsOwn(nonLocal))
        {
            throw new InvalidChannelNameException(
                $"Channel name {ChannelNames.Show(channel)} was not made by this layer: a process receives only on the process-local channels its own layer created (their names hold '{ClientPrefix}!').",
                channel,
                nameof(channel));
        }

        var local = _localKeys.Get(nonLocal);
        if (local.Pump is null)
        {
            // One pump per host; on a cluster, one per hash slot, as one blocking pop may only name keys of one slot.
            var pump = _cluster ? ClusterSlot.Of(local.Key) : local.ShardIndex;
            _pumps.GetOrAdd(pump, static (_, state) => new ReceivePump(state.Layer._shards[state.Shard], state.Layer.Deliver, state.Layer.Options.BlockingPopTimeout, state.Layer._logger), (Layer: this, Shard: local.ShardIndex))
                .EnsureKey(local);
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

        return ValueTask.FromResult(ChannelNames.NewProcessLocalName(prefix, ClientPrefix, Guid.NewGuid().ToString("N")));
    }

    /// <inheritdoc />
    public async ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        ForgetMembers(group); // Its members change: the next send reads them instead of trying the old ones.
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
        ForgetMembers(group);
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
        var groupKey = GroupKey(group);
        var groupShard = GroupShardIndex(group);
        GroupMembers? stale = null;
        if (!_cluster && _knownMembers.TryGet(group, out var known))
        {
            // One round trip while the group stays as it was: the script checks the members it is sent to.
            if (await TrySendToKnownMembersAsync(group, groupKey, groupShard, known, message, now).ConfigureAwait(false))
            {
                return;
            }

            stale = _knownMembers.Forget(group);
        }

        var (members, copy) = await ReadMembersAsync(groupKey, groupShard, now, stale?.Copy).ConfigureAwait(false);
        if (members.Length == 0)
        {
            return;
        }

        // One message per channel key, naming every member channel stored under it (channels_redis's bucketing).
        var buckets = _planner.Plan(members);
        if (!_cluster && buckets.Count > 0 && buckets.TrueForAll(b => b.ShardIndex == groupShard) && members.Length <= GroupMemberCache.MaxGroupSize)
        {
            // The next send checks them on the group's host, with its writes.
            DeleteMemberCopy(groupShard, _knownMembers.Set(group, members, buckets, copy)?.Copy);
        }
        else
        {
            DeleteMemberCopy(groupShard, copy);
        }

        if (buckets.Count == 0)
        {
            return;
        }

        // The message as every key's member starts, written once (this also refuses a message Redis could not carry).
        using var body = new PooledBufferWriter();
        MessageCodec.EncodeGroupBody(message, body);

        var (inProcess, throughRedis) = Split(buckets);
        DeliverInProcess(inProcess, message);
        if (throughRedis is null)
        {
            return;
        }

        long over = 0;
        if (_cluster)
        {
            over = await SendBySlotAsync(throughRedis, body.WrittenMemory, now).ConfigureAwait(false);
        }
        else if (_shards.Length == 1)
        {
            over = await SendToHostAsync(_shards[0], throughRedis, body.WrittenMemory, now).ConfigureAwait(false);
        }
        else
        {
            foreach (var byShard in throughRedis.GroupBy(static b => b.ShardIndex))
            {
                over += await SendToHostAsync(_shards[byShard.Key], [.. byShard], body.WrittenMemory, now).ConfigureAwait(false);
            }
        }

        if (over > 0)
        {
            RedisLog.GroupMembersFull(_logger, group, over, members.Length);
        }
    }

    /// <summary>
    /// Reads a group's members for a send, dropping lapsed ones first as channels_redis does. Outside a cluster, on
    /// Redis 7 and later, the read also keeps a copy of them under a key of this layer's own (deleting
    /// <paramref name="previousCopy"/>), which the next sends check the group against; returns the copy's key, or null when
    /// none was made.
    /// </summary>
    private async ValueTask<(RedisValue[] Members, RedisKey? Copy)> ReadMembersAsync(string groupKey, int groupShard, double now, RedisKey? previousCopy)
    {
        var cutoff = Cutoff(now, _groupExpirySeconds);
        if (!_cluster && !_noMemberCopies)
        {
            RedisKey copy = $"{groupKey}:copy.{ClientPrefix}.{Interlocked.Increment(ref _memberCopies)}";
            try
            {
                var read = await RunAsync(_shards[groupShard], db => db.ScriptEvaluateAsync(
                    LuaScripts.ReadMembersKeepingCopy,
                    [groupKey, copy, previousCopy ?? copy],
                    [cutoff, _memberCopySeconds])).ConfigureAwait(false);
                var members = (RedisValue[])read!;
                return (members, members.Length == 0 ? null : (RedisKey?)copy);
            }
            catch (RedisServerException ex) when (IsMissingCommand(ex))
            {
                StopMemberCopies(_shards[groupShard], ex); // Redis before 7.0, or an ACL that refuses ZRANGESTORE.
            }
        }

        DeleteMemberCopy(groupShard, previousCopy);

        // Pipelined (one round trip, as channels_redis issues them): a Lua script costs more here,
        // converting every member name to a table and back.
        var plain = await RunAsync(_shards[groupShard], db =>
        {
            var batch = db.CreateBatch();
            var lapsed = batch.SortedSetRemoveRangeByScoreAsync(groupKey, 0, cutoff);
            var range = batch.SortedSetRangeByRankAsync(groupKey);
            batch.Execute();
            return BothAsync(lapsed, range);
        }).ConfigureAwait(false);
        return (plain, null);
    }

    /// <summary>True when Redis refused a script because it lacks a command the script calls (or an ACL denies it).</summary>
    private static bool IsMissingCommand(RedisServerException ex) =>
        ex.Message.Contains("unknown command", StringComparison.OrdinalIgnoreCase)
        || ex.Message.Contains("unknown Redis command", StringComparison.OrdinalIgnoreCase)
        || ex.Message.Contains("can't run this command", StringComparison.Ordinal)
        || ex.Message.Contains("NOPERM", StringComparison.Ordinal);

    /// <summary>From now on, group sends read and check members without copies (logged once).</summary>
    private void StopMemberCopies(RedisShard shard, RedisServerException ex)
    {
        if (!_noMemberCopies)
        {
            _noMemberCopies = true;
            RedisLog.NoMemberCopies(_logger, shard.Host.ToString(), ex.Message);
        }
    }

    /// <summary>Forgets a group's remembered members, and deletes their copy in Redis.</summary>
    private void ForgetMembers(string group) => DeleteMemberCopy(GroupShardIndex(group), _knownMembers.Forget(group)?.Copy);

    /// <summary>
    /// Deletes a copy of a group's members that no send will check any more, without waiting (a copy that cannot be
    /// deleted now lapses with its time to live, <see cref="MemberCopySeconds"/> at most).
    /// </summary>
    private void DeleteMemberCopy(int shardIndex, RedisKey? copy)
    {
        if (copy is { } key && !_disposed)
        {
            _ = DeleteMemberCopyAsync(_shards[shardIndex], key);
        }
    }

    private static async Task DeleteMemberCopyAsync(RedisShard shard, RedisKey copy)
    {
        try
        {
            var database = await shard.CommandsAsync().ConfigureAwait(false);
            await database.KeyDeleteAsync(copy, CommandFlags.FireAndForget).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisShard.IsUnavailable(ex) || ex is ObjectDisposedException)
        {
            // Lapses with its time to live.
        }
    }

    /// <summary>
    /// A group send to the members this layer last read (<see cref="GroupMemberCache"/>): one script on the group's
    /// host drops lapsed members, checks that the rest are exactly <paramref name="known"/>, and only then writes; the
    /// in-process members get the message once that check passed. False when the members changed (nothing sent).
    /// </summary>
    private async ValueTask<bool> TrySendToKnownMembersAsync(string group, string groupKey, int groupShard, GroupMembers known, ChannelMessage message, double now)
    {
        // The plan of the remembered members is made once: they are the same members until the cache forgets them.
        var buckets = known.Plan ??= _planner.Plan(known.Members);
        var (inProcess, throughRedis) = Split(buckets);
        using var body = new PooledBufferWriter();
        MessageCodec.EncodeGroupBody(message, body);
        var check = new MembersCheck(groupKey, Cutoff(now, _groupExpirySeconds), known.Members.Length, known.Fingerprint, known.Copy);
        long over;
        try
        {
            over = await SendToHostAsync(_shards[groupShard], throughRedis ?? [], body.WrittenMemory, now, check).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (known.Copy is not null && IsMissingCommand(ex))
        {
            StopMemberCopies(_shards[groupShard], ex); // An ACL that allows ZRANGESTORE but refuses ZINTERCARD.
            return false;
        }

        if (over < 0)
        {
            return false;
        }

        DeliverInProcess(inProcess, message);

        if (over > 0)
        {
            RedisLog.GroupMembersFull(_logger, group, over, known.Members.Length);
        }

        return true;
    }

    /// <summary>A group send's buckets split by whether their members take the message in-process now (asked once
    /// per send, so the two parts never overlap); a part is null when empty.</summary>
    private static (List<KeyBucket>? InProcess, List<KeyBucket>? ThroughRedis) Split(List<KeyBucket> buckets)
    {
        List<KeyBucket>? inProcess = null;
        List<KeyBucket>? throughRedis = null;
        foreach (var bucket in buckets)
        {
            if (bucket.TakesInProcessNow)
            {
                (inProcess ??= new List<KeyBucket>(buckets.Count)).Add(bucket);
            }
            else
            {
                (throughRedis ??= new List<KeyBucket>(buckets.Count)).Add(bucket);
            }
        }

        return (inProcess, throughRedis);
    }

    /// <summary>Hands <paramref name="message"/> to every member of the buckets that take it in-process.</summary>
    private void DeliverInProcess(List<KeyBucket>? buckets, ChannelMessage message)
    {
        if (buckets is null)
        {
            return;
        }

        using var wakeUps = WorkItemBatch.Begin(); // The members' consumers are woken a few work items at a time.
        foreach (var bucket in buckets)
        {
            foreach (var member in bucket.ChannelNames)
            {
                DeliverInProcess(member, message);
            }
        }
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

    /// <summary>A send through Redis: channels_redis's commands as one script (one round trip).</summary>
    private async ValueTask SendThroughRedisAsync(string channel, RedisKey key, RedisShard shard, ChannelMessage message, string? asgiChannel, LocalKey? local)
    {
        var member = _serializer.SerializeRented(message, asgiChannel);
        var capacity = _capacities.GetCapacity(channel);
        var now = Now();
        RedisValue[] arguments = [member.Memory, now, Cutoff(now, _expirySeconds), capacity, _expirySeconds];
        local?.WireSendStarted();
        RedisResult added;
        try
        {
            added = await RunAsync(shard, db => db.ScriptEvaluateAsync(LuaScripts.Send, [key], arguments)).ConfigureAwait(false);
        }
        finally
        {
            local?.WireSendEnded();
        }

        member.Return(); // Only once Redis has answered: a failed command may still hold the bytes.
        if ((long)added == 0)
        {
            throw new ChannelFullException(channel, capacity);
        }
    }

    /// <summary>
    /// The group send's script for the keys <paramref name="buckets"/> on one host (channels_redis's script
    /// plus its expiry pipeline, one round trip). Returns how many keys were full. This is the one place a
    /// group send talks to a host: a client that must split keys further (by cluster slot) splits them here.
    /// With <paramref name="check"/> (the group's host only), the script first checks the group's members and
    /// returns -1, writing nothing, when they are not the ones the buckets were made from.
    /// </summary>
    private async Task<long> SendToHostAsync(RedisShard shard, IReadOnlyList<KeyBucket> buckets, ReadOnlyMemory<byte> body, double now, MembersCheck? check = null)
    {
        var n = buckets.Count;
        var copied = check is { Copy: not null };
        var first = check is null ? 0 : copied ? 2 : 1;
        var keys = new RedisKey[first + n];
        var arguments = new RedisValue[(2 * n) + (check is null ? 3 : copied ? 5 : 6)];
        var members = new RentedBytes[n];
        for (var i = 0; i < n; i++)
        {
            members[i] = _serializer.SerializeGroupMember(body.Span, buckets[i].Channels);
            keys[first + i] = buckets[i].Key;
            arguments[i] = members[i].Memory;
            arguments[n + i] = buckets[i].GroupCapacity;
        }

        arguments[2 * n] = now;
        arguments[(2 * n) + 1] = _expirySeconds;
        arguments[(2 * n) + 2] = Cutoff(now, _expirySeconds);
        if (check is { } c)
        {
            keys[0] = c.GroupKey;
            arguments[(2 * n) + 3] = c.GroupCutoff;
            arguments[(2 * n) + 4] = c.Count;
            if (c.Copy is { } copy)
            {
                keys[1] = copy;
            }
            else
            {
                arguments[(2 * n) + 5] = c.Fingerprint;
            }
        }

        foreach (var bucket in buckets)
        {
            bucket.Local?.WireSendStarted();
        }

        RedisResult result;
        try
        {
            var script = check is null ? LuaScripts.GroupSend : copied ? LuaScripts.GroupSendToCopiedMembers : LuaScripts.GroupSendToKnownMembers;
            result = await RunAsync(shard, db => db.ScriptEvaluateAsync(script, keys, arguments)).ConfigureAwait(false);
        }
        finally
        {
            foreach (var bucket in buckets)
            {
                bucket.Local?.WireSendEnded();
            }
        }

        foreach (var member in members)
        {
            member.Return();
        }

        return (long)result;
    }

    /// <summary>
    /// A group send's keys on a cluster: one script per hash slot (a script may touch keys of one slot
    /// only), all issued before any is awaited, so the k slots cost one pipelined round trip, not k.
    /// Returns how many keys were full.
    /// </summary>
    private async Task<long> SendBySlotAsync(List<KeyBucket> buckets, ReadOnlyMemory<byte> body, double now)
    {
        var bySlot = new Dictionary<int, List<KeyBucket>>();
        foreach (var bucket in buckets)
        {
            var slot = ClusterSlot.Of(bucket.Key);
            if (!bySlot.TryGetValue(slot, out var same))
            {
                bySlot[slot] = same = [];
            }

            same.Add(bucket);
        }

        if (bySlot.Count == 1)
        {
            return await SendToHostAsync(_shards[0], buckets, body, now).ConfigureAwait(false);
        }

        var sends = new List<Task<long>>(bySlot.Count);
        foreach (var same in bySlot.Values)
        {
            sends.Add(SendToHostAsync(_shards[0], same, body, now));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
        var over = 0L;
        foreach (var send in sends)
        {
            over += send.Result;
        }

        return over;
    }

    /// <summary>
    /// Hands <paramref name="message"/> to the buffer of this layer's channel <paramref name="target"/>, as the
    /// pump does with what it pops. The buffer holds the channel's capacity, and up to
    /// <see cref="RedisChannelLayerOptions.ReceiveBufferLimit"/> while its receiver is draining; a message beyond
    /// that is dropped and logged (its receiver stopped reading, or cannot keep up at all).
    /// </summary>
    private void DeliverInProcess(string target, ChannelMessage message)
    {
        if (!_local.TryDeliver(target, message, Options.ReceiveBufferLimit))
        {
            RedisLog.LocalBufferFull(_logger, target, _capacities.GetCapacity(target));
        }
    }

    private async ValueTask<ChannelMessage> ReceivePlainAsync(string channel, CancellationToken cancellationToken)
    {
        RedisKey key = _prefix + channel;
        if (_shards.Length == 1)
        {
            return (await ReceivePlainOnShardAsync(_shards[0], key, untilTimeout: false, cancellationToken).ConfigureAwait(false))!;
        }

        // Plain channels are written round-robin over the hosts: wait on each host in turn for one
        // BlockingPopTimeout (as channels_redis does), so a message on any host is found.
        while (true)
        {
            var shard = _shards[NextIndex(ref _receiveIndex)];
            if (await ReceivePlainOnShardAsync(shard, key, untilTimeout: true, cancellationToken).ConfigureAwait(false) is { } message)
            {
                return message;
            }
        }
    }

    /// <summary>
    /// Pops <paramref name="key"/> on one host; with <paramref name="untilTimeout"/>, returns null when a
    /// blocking pop times out empty, otherwise waits there until a message comes.
    /// </summary>
    private async ValueTask<ChannelMessage?> ReceivePlainOnShardAsync(RedisShard shard, RedisKey key, bool untilTimeout, CancellationToken cancellationToken)
    {
        var connection = await RunAsync(shard, async _ => await shard.RentBlockingAsync().ConfigureAwait(false)).ConfigureAwait(false);
        var returned = false;
        var refused = 0;
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
                catch (Exception) when (_disposed)
                {
                    // DisposeAsync closed the blocking connection under the pop, which took nothing.
                    returned = true;
                    throw new ObjectDisposedException(GetType().FullName);
                }
                catch (RedisServerException ex) when (_cluster && ClusterErrors.IsInFlux(ex) && ++refused < ClusterAttempts)
                {
                    // The pop took nothing (its node lost the slot or turned replica): pop again where the slot is now.
                    await Task.Delay(TimeSpan.FromMilliseconds(10 << refused), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch (Exception ex) when (RedisShard.IsUnavailable(ex) || (_cluster && ex is RedisServerException server && (ClusterErrors.IsDown(server) || ClusterErrors.IsInFlux(server))))
                {
                    if (!shard.IsCurrent(connection))
                    {
                        continue; // The old master dropped the pop as the master moved.
                    }

                    throw Unavailable(shard, ex);
                }

                refused = 0;

                if (result.IsNull)
                {
                    if (untilTimeout)
                    {
                        return null;
                    }

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
        catch (Exception) when (_disposed && !pop.IsCompletedSuccessfully)
        {
            // The layer was disposed under the pop: its connection was closed and nothing was taken.
        }
        catch (Exception ex)
        {
            WireLog.UndecodableMessage(_logger, key.ToString(), $"a message popped for a cancelled receive could not be put back: {ex.Message}");
        }
    }

    /// <summary>The pump's delivery: decode, then hand to each local channel the message names.</summary>
    private void Deliver(RedisKey key, ReadOnlyMemory<byte> member, double score)
    {
        if (IsExpired(score) || TryDecode(key, member.Span, _localNames) is not { } decoded)
        {
            return;
        }

        var targets = decoded.TargetChannels;
        if (targets.Count == 0)
        {
            WireLog.UndecodableMessage(_logger, key.ToString(), "it names no process-local channel (__asgi_channel__ is missing)");
            return;
        }

        using var wakeUps = WorkItemBatch.Begin(); // The targets' consumers are woken a few work items at a time.
        foreach (var target in targets)
        {
            if (!IsOwnLocalChannel(target))
            {
                RedisLog.ForeignChannel(_logger, target);
                continue;
            }

            try
            {
                // The local layer checks the name when it meets a channel for the first time.
                DeliverInProcess(target, decoded.Message);
            }
            catch (InvalidChannelNameException)
            {
                RedisLog.ForeignChannel(_logger, target);
            }
            catch (ObjectDisposedException)
            {
                return;
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
        return bang >= 0 && _localKeys.IsOwn(channel.AsSpan(0, bang + 1));
    }

    /// <summary>
    /// The name of one of this process's channels (one the local layer holds), found from its UTF-8 without making a
    /// string: a group message from Redis names every member under the key, ~100 in a room split over two servers.
    /// </summary>
    private string? LookUpLocalName(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > ChannelNames.MaxLength)
        {
            return null;
        }

        Span<char> chars = stackalloc char[utf8.Length];
        return Ascii.ToUtf16(utf8, chars, out var written) == System.Buffers.OperationStatus.Done
            && _local.TryGetChannelName(chars[..written], out var name) ? name : null;
    }

    private DecodedMessage? TryDecode(RedisKey key, ReadOnlySpan<byte> member, Utf8NameLookup? channelNames = null)
    {
        try
        {
            return _serializer.Deserialize(member, channelNames);
        }
        catch (Exception ex) when (ex is WireFormatException or InvalidTokenException or InvalidChannelMessageException)
        {
            WireLog.UndecodableMessage(_logger, key.ToString(), ex.Message);
            return null;
        }
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

    /// <summary>What <see cref="LuaScripts.GroupSendToCopiedMembers"/> (with <paramref name="Copy"/>) or
    /// <see cref="LuaScripts.GroupSendToKnownMembers"/> (with <paramref name="Fingerprint"/>) checks before it writes.</summary>
    private readonly record struct MembersCheck(string GroupKey, long GroupCutoff, int Count, string? Fingerprint, RedisKey? Copy);

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
