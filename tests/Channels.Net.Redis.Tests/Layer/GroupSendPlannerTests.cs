using System.Text;
using Channels.Net.Layers;
using Channels.Net.Redis.Receiving;
using Channels.Net.Redis.Sending;
using Channels.Net.Redis.Sharding;
using StackExchange.Redis;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>The group send's bucketing on member bytes: channels_redis's keys, order and capacities, no string per member.</summary>
public sealed class GroupSendPlannerTests
{
    private const string Client = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void Members_are_bucketed_by_key_in_first_seen_order()
    {
        var planner = Planner(out _);
        RedisValue[] members = ["b.x!1", "worker", "a.y!1", "b.x!2", "worker2", "a.y!2", "b.x!3"];

        var buckets = planner.Plan(members);

        Assert.Equal(["asgib.x!", "asgiworker", "asgia.y!", "asgiworker2"], buckets.Select(static b => (string)b.Key!));
        Assert.Equal(["b.x!1", "b.x!2", "b.x!3"], Names(buckets[0]));
        Assert.Equal(["worker"], Names(buckets[1]));
        Assert.Equal(["a.y!1", "a.y!2"], Names(buckets[2]));
        Assert.All(buckets, static b => Assert.Null(b.Local));
    }

    [Fact]
    public void Many_keys_are_found_past_the_linear_search()
    {
        var planner = Planner(out _);
        var members = new List<RedisValue>();
        for (var round = 0; round < 3; round++)
        {
            for (var key = 0; key < 40; key++)
            {
                members.Add($"p{key}.c!{round}");
            }
        }

        var buckets = planner.Plan([.. members]);

        Assert.Equal(40, buckets.Count);
        for (var key = 0; key < 40; key++)
        {
            Assert.Equal($"asgip{key}.c!", (string)buckets[key].Key!);
            Assert.Equal([$"p{key}.c!0", $"p{key}.c!1", $"p{key}.c!2"], Names(buckets[key]));
        }
    }

    [Fact]
    public void Invalid_members_are_skipped_as_the_string_check_skips_them()
    {
        var planner = Planner(out _);
        RedisValue[] members =
        [
            "ok!1", "", "!x", "two!bangs!", "sp ace", "é!", new string('a', 100), new string('a', 99), (byte[])[0x61, 0xff, 0x21], "ok!2",
        ];

        var buckets = planner.Plan(members);

        Assert.Equal(["asgiok!", "asgi" + new string('a', 99)], buckets.Select(static b => (string)b.Key!));
        Assert.Equal(["ok!1", "ok!2"], Names(buckets[0]));
    }

    [Fact]
    public void Own_process_local_members_carry_their_local_key()
    {
        var planner = Planner(out var localKeys);
        RedisValue[] members = [$"specific.{Client}!a", $"specific.{Client}!b", "specific.other!c"];

        var buckets = planner.Plan(members);

        Assert.Same(localKeys.Get($"specific.{Client}!".AsSpan()), buckets[0].Local);
        Assert.False(buckets[0].InProcess); // no pump reads the key yet
        Assert.Null(buckets[1].Local);
    }

    [Fact]
    public void Capacity_rules_see_the_first_member_of_each_key()
    {
        var capacities = new ChannelCapacities(100, [ChannelCapacityRule.Glob("b.x!*", 7), ChannelCapacityRule.Glob("worker", 3)]);
        var planner = new GroupSendPlanner("asgi", capacities, new LocalKeys("asgi", Client, 1), 1);

        var buckets = planner.Plan(["b.x!1", "worker", "other"]);

        Assert.Equal([7, 3, 100], buckets.Select(static b => b.Capacity));
    }

    [Fact]
    public void Shards_follow_the_consistent_hash_of_the_non_local_name()
    {
        var planner = new GroupSendPlanner("asgi", new ChannelCapacities(100), new LocalKeys("asgi", Client, 3), 3);
        var members = Enumerable.Range(0, 50).Select(static i => (RedisValue)$"n{i}.c!x").Append("plain.channel").ToArray();

        var buckets = planner.Plan(members);

        foreach (var bucket in buckets)
        {
            var nonLocal = Encoding.ASCII.GetString(bucket.NonLocalName.Span);
            Assert.Equal(ConsistentHash.Index(nonLocal, 3), bucket.ShardIndex);
        }
    }

    [Fact]
    public void The_byte_check_agrees_with_the_string_check()
    {
        var random = new Random(42);
        const string alphabet = "aZ09-_.!! é\u0000\uFFFD";
        for (var i = 0; i < 20000; i++)
        {
            var length = random.Next(4) == 0 ? random.Next(95, 105) : random.Next(0, 12);
            var text = new StringBuilder(length);
            for (var k = 0; k < length; k++)
            {
                text.Append(random.Next(3) == 0 ? alphabet[random.Next(alphabet.Length)] : 'a');
            }

            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            if (random.Next(10) == 0 && bytes.Length > 0)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256); // possibly invalid UTF-8
            }

            var decoded = Encoding.UTF8.GetString(bytes);
            Assert.True(
                ChannelNames.IsValidChannelName(decoded) == ChannelNameBytes.IsValidChannelName(bytes),
                $"'{decoded}' ({Convert.ToHexString(bytes)})");
        }
    }

    private static GroupSendPlanner Planner(out LocalKeys localKeys)
    {
        localKeys = new LocalKeys("asgi", Client, 1);
        return new GroupSendPlanner("asgi", new ChannelCapacities(100), localKeys, 1);
    }

    private static string[] Names(KeyBucket bucket) => [.. bucket.Channels.Select(static c => Encoding.UTF8.GetString(c.Span))];
}
