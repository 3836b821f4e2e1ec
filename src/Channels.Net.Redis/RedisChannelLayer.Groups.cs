using Channels.Net.Internal;
using Channels.Net.Layers;
using Channels.Net.Redis.Cluster;
using Channels.Net.Redis.Sending;
using Channels.Net.Redis.Wire;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;
using Channels.Net.Redis.Connections;
namespace Channels.Net.Redis;

/// <content>Groups: add, discard, and the group send (remembered members checked against their copy in Redis, channels_redis's bucketing, one script per host or cluster slot, in-process delivery to this process's members).</content>
public sealed partial class RedisChannelLayer
{
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
        if (!_cluster && buckets.Count > 0 && GroupMemberCache.Remembers(members.Length) && buckets.TrueForAll(b => b.ShardIndex == groupShard))
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

    /// <summary>What <see cref="LuaScripts.GroupSendToCopiedMembers"/> (with <paramref name="Copy"/>) or
    /// <see cref="LuaScripts.GroupSendToKnownMembers"/> (with <paramref name="Fingerprint"/>) checks before it writes.</summary>
    private readonly record struct MembersCheck(string GroupKey, long GroupCutoff, int Count, string? Fingerprint, RedisKey? Copy);
}
