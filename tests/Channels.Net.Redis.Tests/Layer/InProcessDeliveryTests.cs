using Channels.Net.Layers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ConnectionMultiplexer = StackExchange.Redis.ConnectionMultiplexer;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// Sends from a layer to its own process-local channels skip Redis once the receive pump reads their key
/// and has taken every message the layer sent there through Redis; what the consumer, the sender and Redis
/// see stays what the trip through Redis gives (capacity, expiry, order per sender, refused messages).
/// </summary>
public sealed class InProcessDeliveryTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Once_the_pump_has_drained_the_key_sends_skip_Redis()
    {
        await using var layer = NewLayer();
        var channel = await layer.NewChannelAsync();
        Assert.False(layer.DeliversInProcess(channel)); // nobody reads the key yet

        await layer.SendAsync(channel, Numbered(0));
        Assert.Equal(0, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
        await UntilInProcessAsync(layer, channel);

        var scriptsBefore = await ScriptCallsAsync();
        for (var i = 1; i <= 20; i++)
        {
            await layer.SendAsync(channel, Numbered(i));
        }

        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal(i, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
        }

        Assert.Equal(scriptsBefore, await ScriptCallsAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_sent_through_Redis_before_the_switch_are_received_first(bool viaGroupSend)
    {
        await using var layer = NewLayer(capacity: 400);
        for (var round = 0; round < 3; round++)
        {
            // A new key each round, so each round starts with nobody reading it.
            var channel = await layer.NewChannelAsync($"order{round}");
            var group = $"order{round}{Guid.NewGuid():N}";
            await layer.GroupAddAsync(group, channel);
            for (var i = 0; i < 150; i++)
            {
                await SendAsync(layer, channel, group, i, viaGroupSend && i % 2 == 0);
            }

            Assert.False(layer.DeliversInProcess(channel));
            var receiver = ReceiveSequenceAsync(layer, channel, 300);
            for (var i = 150; i < 300; i++)
            {
                await SendAsync(layer, channel, group, i, viaGroupSend && i % 2 == 0);
            }

            Assert.Equal(Enumerable.Range(0, 300), await receiver.WaitAsync(Wait));
            await UntilInProcessAsync(layer, channel);
        }
    }

    [Fact]
    public async Task Without_a_reader_capacity_is_the_keys_in_Redis()
    {
        await using var layer = NewLayer(capacity: 3);
        var first = await layer.NewChannelAsync("cap");
        var second = await layer.NewChannelAsync("cap");

        await layer.SendAsync(first, Numbered(0));
        await layer.SendAsync(second, Numbered(1));
        await layer.SendAsync(first, Numbered(2));

        // channels_redis counts the key's messages, which both channels share.
        var full = await Assert.ThrowsAsync<ChannelFullException>(() => layer.SendAsync(second, Numbered(3)).AsTask());
        Assert.Equal(3, full.Capacity);
        await using var redis = await server.ConnectAsync();
        Assert.Equal(3, await redis.GetDatabase().SortedSetLengthAsync($"{layer.Options.Prefix}cap.{layer.ClientPrefix}!"));
    }

    [Fact]
    public async Task A_full_buffer_drops_the_newest_and_logs_whether_the_message_came_in_process_or_through_Redis()
    {
        var logs = new RecordingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        // The receiver just took a message, so it is draining: the buffer is bounded by the safety net, here the capacity.
        await using var layer = NewLayer(capacity: 3, loggerFactory: factory, receiveBufferLimit: 3);
        await using var remote = NewLayer(capacity: 100, prefix: layer.Options.Prefix); // Redis holds the key's 5 messages; the buffer 3
        var channel = await layer.NewChannelAsync();
        await StartReadingAsync(layer, channel);

        // In-process: the sender sees no error, as it would not through Redis with the pump reading.
        for (var i = 0; i < 5; i++)
        {
            await layer.SendAsync(channel, Numbered(i));
        }

        Assert.Equal(2, logs.Entries.Count(static e => e.EventId.Id == 503));
        await AssertBufferedAsync(layer, channel, [0, 1, 2], marker: 100, sender: layer);

        // Through Redis from another layer: the pump drops the same way and keeps running.
        for (var i = 10; i < 15; i++)
        {
            await remote.SendAsync(channel, Numbered(i));
        }

        await UntilAsync(() => logs.Entries.Count(static e => e.EventId.Id == 503) == 4, "the pump did not drop the two messages that did not fit");
        await AssertBufferedAsync(layer, channel, [10, 11, 12], marker: 101, sender: remote);
        Assert.Equal(4, logs.Entries.Count(static e => e.EventId.Id == 503 && e.Level == LogLevel.Warning));
    }

    [Fact]
    public async Task An_in_process_message_expires_in_the_buffer_as_a_pumped_one_does()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var layer = NewLayer(time: clock, expiry: TimeSpan.FromSeconds(10));
        var channel = await layer.NewChannelAsync();
        await StartReadingAsync(layer, channel);

        await layer.SendAsync(channel, Numbered(1));
        clock.Advance(TimeSpan.FromSeconds(11));
        await layer.SendAsync(channel, Numbered(2));

        Assert.Equal(2, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
    }

    [Fact]
    public async Task A_message_Redis_would_refuse_is_refused_in_process_too()
    {
        await using var layer = NewLayer();
        await using var remote = NewLayer(prefix: layer.Options.Prefix);
        var channel = await layer.NewChannelAsync();
        await StartReadingAsync(layer, channel);
        var lone = ChannelMessage.Create("t", [new("text", "a\uD800b")]);
        var deep = ChannelMessage.Create("t", [new("deep", Support.Values.NestedLists(64, null))]);

        foreach (var message in new[] { lone, deep })
        {
            var throughRedis = await Assert.ThrowsAsync<InvalidChannelMessageException>(() => remote.SendAsync(channel, message).AsTask());
            var inProcess = await Assert.ThrowsAsync<InvalidChannelMessageException>(() => layer.SendAsync(channel, message).AsTask());
            Assert.Equal(throughRedis.Message, inProcess.Message);
            var groupSend = await Assert.ThrowsAsync<InvalidChannelMessageException>(async () =>
            {
                var group = $"refused{Guid.NewGuid():N}";
                await layer.GroupAddAsync(group, channel);
                await layer.GroupSendAsync(group, message);
            });
            Assert.Equal(throughRedis.Message, groupSend.Message);
        }

        await layer.SendAsync(channel, Numbered(7));
        Assert.Equal(7, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
    }

    [Fact]
    public async Task Group_send_hands_own_members_the_message_in_process_and_sends_the_rest_through_Redis()
    {
        await using var layer = NewLayer();
        await using var other = NewLayer(prefix: layer.Options.Prefix);
        var group = $"mixed{Guid.NewGuid():N}";
        var own = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            own.Add(await layer.NewChannelAsync());
            await layer.GroupAddAsync(group, own[^1]);
        }

        await StartReadingAsync(layer, own[0]);
        var scriptsBefore = await ScriptCallsAsync();
        await layer.GroupSendAsync(group, Numbered(1));
        foreach (var channel in own)
        {
            Assert.Equal(1, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
        }

        Assert.Equal(scriptsBefore + 1, await ScriptCallsAsync()); // only the members were read from Redis (one script, keeping their copy)

        var foreign = await other.NewChannelAsync();
        var worker = $"worker{Guid.NewGuid():N}";
        await layer.GroupAddAsync(group, foreign);
        await layer.GroupAddAsync(group, worker);
        scriptsBefore = await ScriptCallsAsync();
        await layer.GroupSendAsync(group, Numbered(2));

        Assert.Equal(scriptsBefore + 2, await ScriptCallsAsync()); // the members read again (they changed), then one script for the other keys on this host
        Assert.Equal(2, Seq(await other.ReceiveAsync(foreign).AsTask().WaitAsync(Wait)));
        Assert.Equal(2, Seq(await layer.ReceiveAsync(worker).AsTask().WaitAsync(Wait)));
        foreach (var channel in own)
        {
            Assert.Equal(2, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
        }
    }

    [Fact]
    public async Task While_the_pump_has_lost_Redis_sends_fail_as_they_do_through_Redis()
    {
        var own = new RedisServer();
        await own.InitializeAsync();
        try
        {
            var options = new RedisChannelLayerOptions { Prefix = $"down{Guid.NewGuid():N}", BlockingPopTimeout = TimeSpan.FromSeconds(1) };
            options.Hosts.Add(RedisHost.FromAddress(own.Url));
            await using var layer = new RedisChannelLayer(options);
            var channel = await layer.NewChannelAsync();
            await StartReadingAsync(layer, channel);

            await own.StopAsync();
            await UntilAsync(() => !layer.DeliversInProcess(channel), "the pump did not notice that Redis went away");

            await Assert.ThrowsAsync<ChannelLayerUnavailableException>(() => layer.SendAsync(channel, Numbered(1)).AsTask());
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    private RedisChannelLayer NewLayer(int capacity = 100, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, TimeSpan? expiry = null, string? prefix = null, int receiveBufferLimit = 100_000)
    {
        var options = new RedisChannelLayerOptions
        {
            Prefix = prefix ?? $"inproc{Guid.NewGuid():N}",
            Capacity = capacity,
            ReceiveBufferLimit = receiveBufferLimit,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
            TimeProvider = time ?? TimeProvider.System,
            Expiry = expiry ?? TimeSpan.FromSeconds(60),
        };
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        return new RedisChannelLayer(options, loggerFactory);
    }

    private static ChannelMessage Numbered(int seq) => ChannelMessage.Create("test.message", [new("seq", (long)seq)]);

    private static int Seq(ChannelMessage message) => (int)(message.GetInt64("seq") ?? -1);

    private static ValueTask SendAsync(RedisChannelLayer layer, string channel, string group, int seq, bool viaGroupSend) =>
        viaGroupSend ? layer.GroupSendAsync(group, Numbered(seq)) : layer.SendAsync(channel, Numbered(seq));

    private static async Task<List<int>> ReceiveSequenceAsync(RedisChannelLayer layer, string channel, int count)
    {
        var received = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            received.Add(Seq(await layer.ReceiveAsync(channel)));
        }

        return received;
    }

    /// <summary>One message through Redis starts the pump; then wait until it has drained the key.</summary>
    private static async Task StartReadingAsync(RedisChannelLayer layer, string channel)
    {
        await layer.SendAsync(channel, Numbered(-1));
        Assert.Equal(-1, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
        await UntilInProcessAsync(layer, channel);
    }

    private static Task UntilInProcessAsync(RedisChannelLayer layer, string channel) =>
        UntilAsync(() => layer.DeliversInProcess(channel), "sends to the channel never switched to in-process delivery");

    private static async Task UntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(10);
        }
    }

    /// <summary>The buffer holds exactly <paramref name="expected"/>: a marker sent afterwards comes right after them.</summary>
    private static async Task AssertBufferedAsync(RedisChannelLayer layer, string channel, int[] expected, int marker, RedisChannelLayer sender)
    {
        foreach (var seq in expected)
        {
            Assert.Equal(seq, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
        }

        await sender.SendAsync(channel, Numbered(marker));
        Assert.Equal(marker, Seq(await layer.ReceiveAsync(channel).AsTask().WaitAsync(Wait)));
    }

    private async Task<long> ScriptCallsAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port},allowAdmin=true");
        var info = await redis.GetServer(redis.GetEndPoints()[0]).InfoAsync("commandstats");
        return info.SelectMany(static g => g)
            .Where(static p => p.Key is "cmdstat_evalsha" or "cmdstat_eval")
            .Sum(static p => long.Parse(p.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
