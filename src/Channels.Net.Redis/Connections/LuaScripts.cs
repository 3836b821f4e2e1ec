namespace Channels.Net.Redis.Connections;

/// <summary>
/// The Lua scripts that make each layer operation one round trip, doing exactly the Redis commands
/// channels_redis issues (see shared/WIRE.md), so the keys, scores and members are the same.
/// </summary>
internal static class LuaScripts
{
    /// <summary>send: KEYS[1] channel key; ARGV member, score (float seconds), cutoff (int), capacity, expiry.
    /// Returns 1 when added, 0 when the channel is full.</summary>
    public const string Send = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[3])
        if redis.call('ZCOUNT', KEYS[1], '-inf', '+inf') >= tonumber(ARGV[4]) then
            return 0
        end
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[5])
        return 1
        """;

    /// <summary>group_add: KEYS[1] group key; ARGV channel, score, group expiry.</summary>
    public const string GroupAdd = """
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    /// <summary>
    /// group_send, per host (channels_redis's script plus its expiry pipeline): KEYS channel keys;
    /// ARGV members (one per key), capacities (one per key), score, expiry, cutoff. Returns how many keys were full.
    /// </summary>
    public const string GroupSend = """
        local first = 1
        local n = #KEYS
        """ + "\n" + GroupSendWrites;

    /// <summary>
    /// group_send with remembered members, on the group's host: KEYS[1] the group key, then the channel keys; ARGV
    /// members (one per channel key), capacities (one per channel key), score, expiry, cutoff, then the group's
    /// cutoff, the remembered member count and their fingerprint (SHA-1 of the members joined by NUL). Drops lapsed
    /// members as channels_redis's group_send does, then writes only when the group's members are exactly the
    /// remembered ones. Returns how many keys were full, or -1 when the members changed (nothing written).
    /// </summary>
    public const string GroupSendToKnownMembers = """
        local first = 2
        local n = #KEYS - 1
        redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[2 * n + 4])
        local members = redis.call('ZRANGE', KEYS[1], 0, -1)
        if #members ~= tonumber(ARGV[2 * n + 5]) or redis.sha1hex(table.concat(members, '\0')) ~= ARGV[2 * n + 6] then
            return -1
        end
        """ + "\n" + GroupSendWrites;

    /// <summary>
    /// group_send with remembered members checked against this layer's copy of them (Redis 7 and later): KEYS[1] the
    /// group key, KEYS[2] the copy (<see cref="ReadMembersKeepingCopy"/>), then the channel keys; ARGV as
    /// <see cref="GroupSendToKnownMembers"/> without the fingerprint. The same check done by Redis's own set code
    /// (ZCARD and ZINTERCARD, no member crossing into Lua): the group has the remembered count and every one of them is
    /// in the copy, which holds exactly the remembered members (or nothing, once it expired). Returns -1 when the
    /// members changed (nothing written), else how many keys were full.
    /// </summary>
    public const string GroupSendToCopiedMembers = """
        local first = 3
        local n = #KEYS - 2
        redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[2 * n + 4])
        local count = redis.call('ZCARD', KEYS[1])
        if count ~= tonumber(ARGV[2 * n + 5]) or redis.call('ZINTERCARD', 2, KEYS[1], KEYS[2]) ~= count then
            return -1
        end
        """ + "\n" + GroupSendWrites;

    /// <summary>
    /// The members read for a group send (Redis 7 and later), with a copy kept for <see cref="GroupSendToCopiedMembers"/>:
    /// KEYS[1] the group key, KEYS[2] a new copy key, KEYS[3] the previous copy (deleted); ARGV the group's cutoff and the
    /// copy's time to live. Drops lapsed members as channels_redis's group_send does, copies the rest atomically with the
    /// read, and returns them in rank order.
    /// </summary>
    public const string ReadMembersKeepingCopy = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
        redis.call('DEL', KEYS[3])
        if redis.call('ZRANGESTORE', KEYS[2], KEYS[1], 0, -1) > 0 then
            redis.call('EXPIRE', KEYS[2], ARGV[2])
        end
        return redis.call('ZRANGE', KEYS[2], 0, -1)
        """;

    /// <summary>The writes of a group send: the n channel keys are KEYS[first .. first + n - 1].</summary>
    private const string GroupSendWrites = """
        local current_time = ARGV[2 * n + 1]
        local expiry = ARGV[2 * n + 2]
        local cutoff = ARGV[2 * n + 3]
        local over_capacity = 0
        for i = 1, n do
            local key = KEYS[first + i - 1]
            redis.call('ZREMRANGEBYSCORE', key, 0, cutoff)
            if redis.call('ZCOUNT', key, '-inf', '+inf') < tonumber(ARGV[i + n]) then
                redis.call('ZADD', key, current_time, ARGV[i])
                redis.call('EXPIRE', key, expiry)
            else
                over_capacity = over_capacity + 1
            end
        end
        return over_capacity
        """;

    /// <summary>flush: ARGV[1] key pattern; deletes in chunks of 5000, as channels_redis does.</summary>
    public const string Flush = """
        local keys = redis.call('KEYS', ARGV[1])
        for i = 1, #keys, 5000 do
            redis.call('DEL', unpack(keys, i, math.min(i + 4999, #keys)))
        end
        return #keys
        """;
}
