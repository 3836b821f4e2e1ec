using Channels.Net.Layers;
using Channels.Net.Redis.PubSub;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// Issue 9 (item 3): a burst of group sends to a room whose receivers all drain promptly loses nothing, on default
/// options. 200 process-local channels in one layer instance, each with a receive loop that receives again as soon
/// as a message arrives; 10 concurrent senders × 200 group sends each (400,000 deliveries), from another layer
/// instance (another process, as far as Redis can tell) or from the receivers' own instance. Every receiver must
/// get all 2,000 messages, in order per sender.
/// </summary>
public sealed class BurstDeliveryTests(RedisServer server) : IClassFixture<RedisServer>
{
    private const int Members = 200;
    private const int Senders = 10;
    private const int PerSender = 200;

    /// <summary>A receiver that got nothing for this long has been starved: the test stops and reports.</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(15);

    public enum From
    {
        /// <summary>Another layer instance, with its own client prefix: everything goes through the receivers' process key.</summary>
        OtherProcess,

        /// <summary>The receivers' own layer instance: the in-process shortcut (and the process key until the pump has caught up).</summary>
        SameProcess,

        /// <summary>Half of the senders in each.</summary>
        Both,
    }

    [Theory]
    [InlineData(From.OtherProcess)]
    [InlineData(From.SameProcess)]
    [InlineData(From.Both)]
    public async Task Redis_layer_delivers_a_burst_to_every_draining_receiver(From from)
    {
        var prefix = $"burst{Guid.NewGuid():N}";
        var logs = new RecordingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning).AddProvider(logs));
        await using var receiver = new RedisChannelLayer(Options(prefix), factory);
        await using var other = new RedisChannelLayer(Options(prefix), factory);
        await JoinAndBurstAsync(receiver, other, from, logs);
    }

    [Theory]
    [InlineData(From.OtherProcess)]
    [InlineData(From.SameProcess)]
    public async Task PubSub_layer_delivers_a_burst_to_every_draining_receiver(From from)
    {
        var prefix = $"burstps{Guid.NewGuid():N}";
        var logs = new RecordingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning).AddProvider(logs));
        await using var receiver = new RedisPubSubChannelLayer(PubSubOptions(prefix), factory);
        await using var other = new RedisPubSubChannelLayer(PubSubOptions(prefix), factory);
        await JoinAndBurstAsync(receiver, other, from, logs);
    }

    /// <summary>A process-local channel of a process that does not receive on its key is full after Capacity messages
    /// in Redis, as with channels_redis: a send raises <see cref="ChannelFullException"/>, a group send skips it.</summary>
    [Fact]
    public async Task A_process_key_nobody_reads_still_obeys_capacity()
    {
        var prefix = $"burstcap{Guid.NewGuid():N}";
        await using var idle = new RedisChannelLayer(Options(prefix));
        await using var sender = new RedisChannelLayer(Options(prefix));
        var channel = await idle.NewChannelAsync();
        var group = $"room{Guid.NewGuid():N}";
        await sender.GroupAddAsync(group, channel);
        for (var i = 0; i < 100; i++)
        {
            await sender.SendAsync(channel, Numbered(0, i));
        }

        var full = await Assert.ThrowsAsync<ChannelFullException>(async () => await sender.SendAsync(channel, Numbered(0, 100)));
        Assert.Equal(100, full.Capacity);
        await sender.GroupSendAsync(group, Numbered(1, 0)); // skipped, not thrown

        await using var redis = await server.ConnectAsync();
        Assert.Equal(100, await redis.GetDatabase().SortedSetLengthAsync($"{prefix}specific.{idle.ClientPrefix}!"));
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(i, (await idle.ReceiveAsync(channel).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).GetInt64("seq"));
        }
    }

    /// <summary>Our group sends check a process's key against the capacity per member the message addresses: with three
    /// members of the group in one process that nobody reads, 300 group messages wait in its key and the next is skipped
    /// (channels_redis would skip after 100); a direct send still sees one channel's capacity.</summary>
    [Fact]
    public async Task A_group_send_gives_each_local_member_of_a_process_key_its_own_capacity()
    {
        var prefix = $"burstgroupcap{Guid.NewGuid():N}";
        await using var idle = new RedisChannelLayer(Options(prefix));
        await using var sender = new RedisChannelLayer(Options(prefix));
        var group = $"room{Guid.NewGuid():N}";
        var channels = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            channels.Add(await idle.NewChannelAsync());
            await sender.GroupAddAsync(group, channels[^1]);
        }

        for (var i = 0; i < 301; i++)
        {
            await sender.GroupSendAsync(group, Numbered(0, i));
        }

        await using var redis = await server.ConnectAsync();
        Assert.Equal(300, await redis.GetDatabase().SortedSetLengthAsync($"{prefix}specific.{idle.ClientPrefix}!"));
        var full = await Assert.ThrowsAsync<ChannelFullException>(async () => await sender.SendAsync(channels[0], Numbered(1, 0)));
        Assert.Equal(100, full.Capacity);
        // Each member, receiving (so draining), gets all 300 in order.
        await Task.WhenAll(channels.Select(channel => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                Assert.Equal(i, (await idle.ReceiveAsync(channel).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).GetInt64("seq"));
            }
        })));
    }

    /// <summary>A channel whose receiver does not read, in a process whose pump runs for others, holds its capacity in
    /// its in-process buffer and drops what comes beyond (logged), while a draining neighbour gets everything.</summary>
    [Fact]
    public async Task A_local_channel_nobody_drains_keeps_its_capacity_while_a_draining_neighbour_gets_everything()
    {
        var prefix = $"burstlocal{Guid.NewGuid():N}";
        var logs = new RecordingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning).AddProvider(logs));
        await using var receiver = new RedisChannelLayer(Options(prefix), factory);
        await using var sender = new RedisChannelLayer(Options(prefix));
        var idle = await receiver.NewChannelAsync();
        var busy = await receiver.NewChannelAsync();
        var group = $"room{Guid.NewGuid():N}";
        await sender.GroupAddAsync(group, idle);
        await sender.GroupAddAsync(group, busy);

        const int count = 300;
        var draining = DrainAsync(receiver, busy, count);
        for (var i = 0; i < count; i++)
        {
            await sender.GroupSendAsync(group, Numbered(0, i));
        }

        Assert.Equal(Enumerable.Range(0, count), (await draining).Select(static m => m.Seq));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!logs.Entries.Any(e => e.EventId.Id == 503))
        {
            Assert.True(DateTime.UtcNow < deadline, "the full buffer was never logged");
            await Task.Delay(20);
        }

        var kept = await DrainAsync(receiver, idle, count, TimeSpan.FromMilliseconds(500));
        Assert.Equal(Enumerable.Range(0, 100), kept.Select(static m => m.Seq));
    }

    /// <summary>Makes <see cref="Members"/> channels of <paramref name="receiver"/> members of a new group, then runs the burst.</summary>
    private static async Task JoinAndBurstAsync(IChannelLayer receiver, IChannelLayer other, From from, RecordingLoggerProvider logs)
    {
        var group = $"room{Guid.NewGuid():N}";
        var channels = new string[Members];
        for (var c = 0; c < Members; c++)
        {
            channels[c] = await receiver.NewChannelAsync();
            await receiver.GroupAddAsync(group, channels[c]);
        }

        await RunBurstAsync(receiver, SendersOf(from, receiver, other), group, channels, logs);
    }

    private static IChannelLayer[] SendersOf(From from, IChannelLayer receiver, IChannelLayer other) =>
        [.. Enumerable.Range(0, Senders).Select(s => from switch
        {
            From.OtherProcess => other,
            From.SameProcess => receiver,
            _ => s % 2 == 0 ? other : receiver,
        })];

    private static async Task RunBurstAsync(IChannelLayer receiver, IChannelLayer[] senders, string group, string[] channels, RecordingLoggerProvider logs)
    {
        var expected = Senders * PerSender;
        var receiving = channels.Select(channel => Task.Run(() => DrainAsync(receiver, channel, expected))).ToArray();

        var sending = senders.Select((layer, s) => Task.Run(async () =>
        {
            for (var i = 0; i < PerSender; i++)
            {
                await layer.GroupSendAsync(group, Numbered(s, i));
            }
        }));
        await Task.WhenAll(sending);
        var received = await Task.WhenAll(receiving);

        var missing = received.Sum(r => expected - r.Count);
        var drops = logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message).Distinct().Take(5).ToArray();
        Assert.True(
            missing == 0,
            $"{missing} of {expected * channels.Length} deliveries missing ({100.0 * missing / (expected * channels.Length):F2} %); " +
            $"{received.Count(r => r.Count < expected)} receiver(s) short. Logged: {string.Join(" | ", drops)}");
        foreach (var sequence in received)
        {
            for (var s = 0; s < Senders; s++)
            {
                Assert.Equal(Enumerable.Range(0, PerSender), sequence.Where(m => m.Sender == s).Select(static m => m.Seq));
            }
        }
    }

    /// <summary>Receives on <paramref name="channel"/> again as soon as a message arrives, until <paramref name="count"/>
    /// came or nothing came for <paramref name="idle"/>.</summary>
    private static async Task<List<(int Sender, int Seq)>> DrainAsync(IChannelLayer layer, string channel, int count, TimeSpan? idle = null, bool work = true)
    {
        var received = new List<(int, int)>(count);
        using var quiet = new CancellationTokenSource();
        while (received.Count < count)
        {
            quiet.CancelAfter(idle ?? Idle);
            ChannelMessage message;
            try
            {
                message = await layer.ReceiveAsync(channel, quiet.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            received.Add(((int)(message.GetInt64("sender") ?? -1), (int)(message.GetInt64("seq") ?? -1)));
            if (work)
            {
                // What a consumer does with each message before it takes the next: writes it out (here as
                // JSON) and lets the thread go once (its socket write). Prompt, but not free: 200 of them on
                // a small machine take longer than the senders' burst, so messages wait for their receivers.
                await Task.Yield();
                for (var i = 0; i < 4; i++)
                {
                    _ = JsonSerializer.SerializeToUtf8Bytes(new { type = message.Type, sender = message.GetInt64("sender"), seq = message.GetInt64("seq"), text = message.GetString("text") });
                }
            }
        }

        return received;
    }

    private static ChannelMessage Numbered(int sender, int seq) =>
        ChannelMessage.Create("room.message", [new("sender", (long)sender), new("seq", (long)seq), new("text", "a chat line of ordinary length")]);

    private RedisChannelLayerOptions Options(string prefix)
    {
        var options = new RedisChannelLayerOptions { Prefix = prefix };
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        return options;
    }

    private RedisPubSubChannelLayerOptions PubSubOptions(string prefix)
    {
        var options = new RedisPubSubChannelLayerOptions { Prefix = prefix };
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        return options;
    }
}
