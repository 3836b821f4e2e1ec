using System.Collections.Concurrent;
using System.Security.Cryptography;
using StackExchange.Redis;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis.Sending;

/// <summary>
/// The members each group had when this layer last read them, so that the next group send can skip the read: it
/// sends with the members it remembers, and its script first checks, atomically with the writes, that the group still
/// has exactly those members. When they changed, the script writes nothing and the send reads the members again. A
/// remembered list is therefore never trusted, only tried; it saves a round trip while a group stays as it was.
/// </summary>
/// <remarks>
/// <para>Two checks: on Redis 7 and later the read also stores a copy of the members in a key of this layer's own
/// (<see cref="GroupMembers.Copy"/>, see <see cref="LuaScripts.ReadMembersKeepingCopy"/>) and the check compares the group
/// with it inside Redis (ZCARD, ZINTERCARD: about 10 µs for 200 members); otherwise the script reads the members into Lua
/// and compares their count and SHA-1 (<see cref="GroupMembers.Fingerprint"/>, about 55 µs for 200 members).</para>
/// </remarks>
/// <remarks>Bounded by the number of members remembered over all groups (<see cref="MaxMembers"/>): past it, the cache
/// starts again empty. Groups of more than <see cref="MaxGroupSize"/> members are not remembered (the script's check
/// costs Redis time in proportion to the group's size, and a large group's send is dominated by its deliveries).</remarks>
internal sealed class GroupMemberCache
{
    /// <summary>The most members remembered over all groups.</summary>
    public const int MaxMembers = 100_000;

    /// <summary>The largest group remembered.</summary>
    public const int MaxGroupSize = 500;

    private readonly ConcurrentDictionary<string, GroupMembers> _groups = new(StringComparer.Ordinal);
    private long _members;

    /// <summary>True when a group of <paramref name="memberCount"/> members is remembered (not empty, at most
    /// <see cref="MaxGroupSize"/>).</summary>
    public static bool Remembers(int memberCount) => memberCount is > 0 and <= MaxGroupSize;

    /// <summary>The members remembered for <paramref name="group"/>, if any.</summary>
    public bool TryGet(string group, out GroupMembers members) => _groups.TryGetValue(group, out members!);

    /// <summary>
    /// Remembers <paramref name="members"/> (as Redis returned them, in order) for <paramref name="group"/>, checked
    /// later against <paramref name="copy"/> when it is given, else against their fingerprint. Returns the entry it
    /// replaced, if any (its copy is no longer needed).
    /// </summary>
    public GroupMembers? Set(string group, RedisValue[] members, List<KeyBucket>? plan = null, RedisKey? copy = null)
    {
        if (!Remembers(members.Length))
        {
            return Forget(group);
        }

        var entry = new GroupMembers(members, copy is null ? Fingerprint(members) : null, copy) { Plan = plan };
        GroupMembers? replaced = null;
        _groups.AddOrUpdate(group, entry, (_, previous) =>
        {
            replaced = previous;
            return entry;
        });
        if (Interlocked.Add(ref _members, members.Length - (replaced?.Members.Length ?? 0)) > MaxMembers)
        {
            _groups.Clear(); // The forgotten entries' copies lapse with their time to live.
            Interlocked.Exchange(ref _members, 0);
        }

        return replaced;
    }

    /// <summary>Forgets <paramref name="group"/>'s members (they changed, or this layer changed them); returns what it forgot.</summary>
    public GroupMembers? Forget(string group)
    {
        if (_groups.TryRemove(group, out var removed))
        {
            Interlocked.Add(ref _members, -removed.Members.Length);
            return removed;
        }

        return null;
    }

    /// <summary>
    /// The lower-case hex SHA-1 of the members joined by a NUL byte: what the script computes with
    /// <c>redis.sha1hex(table.concat(members, '\0'))</c> over the group's current members.
    /// </summary>
    public static string Fingerprint(RedisValue[] members)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        ReadOnlySpan<byte> separator = [0];
        for (var i = 0; i < members.Length; i++)
        {
            if (i > 0)
            {
                sha1.AppendData(separator);
            }

            sha1.AppendData(((ReadOnlyMemory<byte>)members[i]).Span);
        }

        Span<byte> hash = stackalloc byte[20];
        sha1.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash);
    }
}

/// <summary>A group's members as last read, and what a send checks them against.</summary>
/// <param name="Members">The members, as Redis returned them.</param>
/// <param name="Fingerprint">Their fingerprint (<see cref="GroupMemberCache.Fingerprint"/>), when they have no copy.</param>
/// <param name="Copy">The key holding a copy of them in Redis, made atomically with the read, or null.</param>
internal sealed record GroupMembers(RedisValue[] Members, string? Fingerprint, RedisKey? Copy)
{
    /// <summary>
    /// The buckets <see cref="GroupSendPlanner.Plan"/> made of <see cref="Members"/> (null until planned): the members do not
    /// change while they are remembered, so neither do their names' checks, keys, hosts and capacities. Read-only once
    /// made; whether a bucket takes a send in-process is asked per send (<see cref="KeyBucket.TakesInProcessNow"/>).
    /// </summary>
    public List<KeyBucket>? Plan { get; set; }
}
