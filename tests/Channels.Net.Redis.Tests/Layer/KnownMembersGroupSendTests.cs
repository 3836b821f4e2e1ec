using Channels.Net.Layers;
using Channels.Net.Redis.Sending;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Tests.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ConnectionMultiplexer = StackExchange.Redis.ConnectionMultiplexer;
using RedisValue = StackExchange.Redis.RedisValue;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// A layer remembers the members it last read for a group, and its next group send goes to them in one request
/// whose script checks, with the writes, that the group still has exactly those members; when another layer (or
/// another process, or the group expiry) changed them, that send reads them again. Members never get a message
/// meant for a group they are no longer in, and new members get the next one.
/// </summary>
public sealed class KnownMembersGroupSendTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Sends_to_a_group_that_did_not_change_read_its_members_once()
    {
        var prefix = NewPrefix();
        await using var sender = NewLayer(prefix);
        await using var members = NewLayer(prefix);
        var group = "room" + Guid.NewGuid().ToString("N");
        var channels = new[] { await members.NewChannelAsync(), await members.NewChannelAsync(), "worker" + Guid.NewGuid().ToString("N") };
        foreach (var channel in channels)
        {
            await members.GroupAddAsync(group, channel);
        }

        await using var monitor = await RedisMonitor.StartAsync(server.Port);
        await sender.GroupSendAsync(group, Numbered(0));
        var groupKey = $"{prefix}:group:{group}";
        Assert.Equal(1, await monitor.ScriptCommandsAsync("zrangestore", groupKey)); // the first send reads the members
        await monitor.ClearAsync();
        for (var i = 1; i < 5; i++)
        {
            await sender.GroupSendAsync(group, Numbered(i));
        }

        Assert.Equal(4, await monitor.RequestsMentioningAsync(prefix)); // each later send is one request: the checked script
        Assert.Equal(4, await ScriptRequestsAsync(monitor, groupKey));
        Assert.Equal(0, await monitor.ScriptCommandsAsync("zrangestore", groupKey)); // and does not read them

        foreach (var channel in channels)
        {
            for (var i = 0; i < 5; i++)
            {
                await AssertNextAsync(members, channel, i);
            }
        }

    }

    [Fact]
    public async Task A_member_added_elsewhere_between_sends_gets_the_next_message()
    {
        var prefix = NewPrefix();
        await using var sender = NewLayer(prefix);
        await using var members = NewLayer(prefix);
        var group = "room" + Guid.NewGuid().ToString("N");
        var first = await members.NewChannelAsync();
        await members.GroupAddAsync(group, first);
        await sender.GroupSendAsync(group, Numbered(1));

        var late = await members.NewChannelAsync();
        await members.GroupAddAsync(group, late);
        await using var monitor = await RedisMonitor.StartAsync(server.Port);
        await sender.GroupSendAsync(group, Numbered(2));

        await AssertNextAsync(members, first, 1);
        await AssertNextAsync(members, first, 2);
        await AssertNextAsync(members, late, 2);
        var groupKey = $"{prefix}:group:{group}";
        Assert.Equal(2, await ScriptRequestsAsync(monitor, groupKey)); // the checked script, refused: the members changed ...
        Assert.Equal(1, await monitor.ScriptCommandsAsync("zrangestore", groupKey)); // ... so the send read them again
    }

    [Fact]
    public async Task A_member_discarded_elsewhere_between_sends_gets_nothing_more()
    {
        var prefix = NewPrefix();
        await using var sender = NewLayer(prefix);
        await using var members = NewLayer(prefix);
        var group = "room" + Guid.NewGuid().ToString("N");
        var staying = await members.NewChannelAsync();
        var leaving = await members.NewChannelAsync();
        await members.GroupAddAsync(group, staying);
        await members.GroupAddAsync(group, leaving);
        await sender.GroupSendAsync(group, Numbered(1));

        await members.GroupDiscardAsync(group, leaving);
        await sender.GroupSendAsync(group, Numbered(2));
        await members.SendAsync(leaving, Numbered(99)); // a marker: the next message on the channel after the first

        await AssertNextAsync(members, staying, 1);
        await AssertNextAsync(members, staying, 2);
        await AssertNextAsync(members, leaving, 1);
        await AssertNextAsync(members, leaving, 99);
    }

    [Fact]
    public async Task A_member_whose_membership_lapsed_gets_nothing_more()
    {
        var prefix = NewPrefix();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sender = NewLayer(prefix, time);
        await using var members = NewLayer(prefix, time);
        var group = "room" + Guid.NewGuid().ToString("N");
        var lapsing = "worker" + Guid.NewGuid().ToString("N");
        var renewed = "worker" + Guid.NewGuid().ToString("N");
        await members.GroupAddAsync(group, lapsing);
        time.Advance(TimeSpan.FromSeconds(60));
        await members.GroupAddAsync(group, renewed); // added later: after it in the group's order
        await sender.GroupSendAsync(group, Numbered(1)); // remembers [lapsing, renewed]

        time.Advance(TimeSpan.FromSeconds(60)); // lapsing: 120 s old, past the 100 s group expiry; renewed: 60 s
        await sender.GroupSendAsync(group, Numbered(2));
        await members.SendAsync(lapsing, Numbered(99));

        await AssertNextAsync(members, lapsing, 1);
        await AssertNextAsync(members, lapsing, 99);
        await AssertNextAsync(members, renewed, 1);
        await AssertNextAsync(members, renewed, 2);
    }

    [Fact]
    public async Task A_flushed_group_gets_nothing_and_the_send_succeeds()
    {
        var prefix = NewPrefix();
        await using var sender = NewLayer(prefix);
        await using var members = NewLayer(prefix);
        var group = "room" + Guid.NewGuid().ToString("N");
        var channel = "worker" + Guid.NewGuid().ToString("N");
        await members.GroupAddAsync(group, channel);
        await sender.GroupSendAsync(group, Numbered(1));
        await AssertNextAsync(members, channel, 1);

        await members.FlushAsync();
        await sender.GroupSendAsync(group, Numbered(2));
        await members.SendAsync(channel, Numbered(99));

        await AssertNextAsync(members, channel, 99);
    }

    [Fact]
    public async Task A_member_swapped_in_Redis_with_an_older_score_is_seen_by_the_next_send()
    {
        // What a Django process with a clock behind ours does: group_discard one member, group_add another, so the
        // group keeps its size, and the new member's score sorts before the others.
        var prefix = NewPrefix();
        await using var sender = NewLayer(prefix);
        await using var members = NewLayer(prefix);
        var group = "room" + Guid.NewGuid().ToString("N");
        var staying = "worker" + Guid.NewGuid().ToString("N");
        var leaving = "worker" + Guid.NewGuid().ToString("N");
        var joining = "worker" + Guid.NewGuid().ToString("N");
        await members.GroupAddAsync(group, staying);
        await members.GroupAddAsync(group, leaving);
        await sender.GroupSendAsync(group, Numbered(1)); // remembers [staying, leaving]

        await using var redis = await server.ConnectAsync();
        var groupKey = $"{prefix}:group:{group}";
        var oldest = (await redis.GetDatabase().SortedSetRangeByRankWithScoresAsync(groupKey))[0].Score;
        await redis.GetDatabase().SortedSetRemoveAsync(groupKey, leaving);
        await redis.GetDatabase().SortedSetAddAsync(groupKey, joining, oldest - 5);
        await sender.GroupSendAsync(group, Numbered(2));
        await members.SendAsync(leaving, Numbered(99));

        await AssertNextAsync(members, staying, 1);
        await AssertNextAsync(members, staying, 2);
        await AssertNextAsync(members, leaving, 1);
        await AssertNextAsync(members, leaving, 99);
        await AssertNextAsync(members, joining, 2);
    }

    [Fact]
    public async Task The_members_are_checked_against_one_copy_in_Redis_that_is_replaced_when_they_change_and_lapses()
    {
        var prefix = NewPrefix();
        await using var sender = NewLayer(prefix);
        await using var members = NewLayer(prefix);
        var group = "room" + Guid.NewGuid().ToString("N");
        await members.GroupAddAsync(group, "worker" + Guid.NewGuid().ToString("N"));
        await sender.GroupSendAsync(group, Numbered(1));

        await using var redis = await server.ConnectAsync(allowAdmin: true);
        var groupKey = $"{prefix}:group:{group}";
        var first = Assert.Single(await CopiesAsync(redis, groupKey));
        Assert.StartsWith($"{groupKey}:copy.{sender.ClientPrefix}.", first, StringComparison.Ordinal);
        Assert.Equal(
            await redis.GetDatabase().SortedSetRangeByRankAsync(groupKey),
            await redis.GetDatabase().SortedSetRangeByRankAsync(first));
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(first);
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(100)); // the group expiry (100 s) caps it

        // Changed elsewhere: the next send reads the members again, with a new copy, and deletes the old one.
        await members.GroupAddAsync(group, "worker" + Guid.NewGuid().ToString("N"));
        await sender.GroupSendAsync(group, Numbered(2));
        var second = Assert.Single(await CopiesAsync(redis, groupKey));
        Assert.NotEqual(first, second);
        Assert.Equal(2, await redis.GetDatabase().SortedSetLengthAsync(second));

        // Changed by this layer: it forgets the members and deletes their copy (without waiting for Redis).
        await sender.GroupAddAsync(group, "worker" + Guid.NewGuid().ToString("N"));
        await WaitUntilAsync(async () => (await CopiesAsync(redis, groupKey)).Length == 0);
    }

    [Theory]
    [InlineData("-zrangestore", "-zintercard")] // as on Redis 6.0: neither command
    [InlineData("+zrangestore", "-zintercard")] // as on Redis 6.2: the copy is made, the check cannot run
    public async Task Without_the_commands_a_copy_needs_the_layer_logs_once_and_checks_in_Lua(string zrangestore, string zintercard)
    {
        await using var redis = await server.ConnectAsync(allowAdmin: true);
        var user = "nocopy" + Guid.NewGuid().ToString("N")[..8];
        await redis.GetDatabase().ExecuteAsync("ACL", "SETUSER", user, "on", ">secret", "~*", "&*", "+@all", zrangestore, zintercard);
        try
        {
            var logs = new RecordingLoggerProvider();
            using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
            var prefix = NewPrefix();
            await using var sender = NewLayer(prefix, loggerFactory: factory, url: $"redis://{user}:secret@127.0.0.1:{server.Port}/0");
            await using var members = NewLayer(prefix);
            var group = "room" + Guid.NewGuid().ToString("N");
            var staying = "worker" + Guid.NewGuid().ToString("N");
            var leaving = "worker" + Guid.NewGuid().ToString("N");
            var joining = "worker" + Guid.NewGuid().ToString("N");
            await members.GroupAddAsync(group, staying);
            await members.GroupAddAsync(group, leaving);
            await sender.GroupSendAsync(group, Numbered(1));
            await members.GroupDiscardAsync(group, leaving);
            await members.GroupAddAsync(group, joining);
            await sender.GroupSendAsync(group, Numbered(2));
            await sender.GroupSendAsync(group, Numbered(3));

            Assert.Single(logs.Entries, static e => e.EventId.Id == 509);
            await WaitUntilAsync(async () => (await CopiesAsync(redis, $"{prefix}:group:{group}")).Length == 0);
            await AssertNextAsync(members, leaving, 1);
            foreach (var expected in new[] { 1, 2, 3 })
            {
                await AssertNextAsync(members, staying, expected);
            }

            await AssertNextAsync(members, joining, 2);
            await AssertNextAsync(members, joining, 3);
        }
        finally
        {
            await redis.GetDatabase().ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    [Fact]
    public async Task The_fingerprint_is_the_one_Redis_computes_over_the_members()
    {
        RedisValue[] members = ["specific.abc!def", "chat-worker", "a.b_c-d!", "x"];
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port}");
        var computed = (string?)await redis.GetDatabase().ScriptEvaluateAsync("return redis.sha1hex(table.concat(ARGV, '\\0'))", values: members);

        Assert.Equal(computed, GroupMemberCache.Fingerprint(members));
        Assert.NotEqual(GroupMemberCache.Fingerprint(["ab", "c"]), GroupMemberCache.Fingerprint(["a", "bc"]));
    }

    private RedisChannelLayer NewLayer(string prefix, TimeProvider? time = null, ILoggerFactory? loggerFactory = null, string? url = null)
    {
        var options = new RedisChannelLayerOptions
        {
            Prefix = prefix,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
            GroupExpiry = TimeSpan.FromSeconds(100),
            Expiry = TimeSpan.FromSeconds(1000),
            TimeProvider = time ?? TimeProvider.System,
        };
        options.Hosts.Add(RedisHost.FromAddress(url ?? server.Url));
        return new RedisChannelLayer(options, loggerFactory);
    }

    /// <summary>The copies of <paramref name="groupKey"/>'s members that layers keep in Redis.</summary>
    private static async Task<string[]> CopiesAsync(ConnectionMultiplexer redis, string groupKey)
    {
        var found = await redis.GetDatabase().ExecuteAsync("KEYS", groupKey + ":copy.*");
        return [.. ((RedisValue[])found!).Select(static key => (string)key!)];
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(20);
        }
    }

    /// <summary>Asserts that the next message <paramref name="layer"/> receives on <paramref name="channel"/> is number <paramref name="seq"/>.</summary>
    private static async Task AssertNextAsync(RedisChannelLayer layer, string channel, int seq) =>
        Assert.Equal(seq, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));

    /// <summary>Scripts run naming <paramref name="key"/> (EVAL the first time a connection runs one, EVALSHA after).</summary>
    private static async Task<int> ScriptRequestsAsync(RedisMonitor monitor, string key) =>
        await monitor.RequestsAsync("eval", key) + await monitor.RequestsAsync("evalsha", key);

    private static string NewPrefix() => $"known{Guid.NewGuid():N}";

    private static ChannelMessage Numbered(int seq) => ChannelMessage.Create("test.message", [new("seq", (long)seq)]);

    private static int Seq(ChannelMessage message) => (int)(message.GetInt64("seq") ?? -1);
}
