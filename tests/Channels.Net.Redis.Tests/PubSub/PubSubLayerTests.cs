using System.Text.RegularExpressions;
using Channels.Net.Layers;
using Channels.Net.Redis.PubSub;
using Channels.Net.Redis.Sharding;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Redis.Tests.PubSub;

/// <summary>What the pub/sub layer puts on the wire, what it subscribes to, its buffer, its release of
/// abandoned channels, its sharding, and what it does with bad input.</summary>
public sealed class PubSubLayerTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly List<IAsyncDisposable> _disposables = [];
    private ConnectionMultiplexer? _inspector;

    private ConnectionMultiplexer Inspector => _inspector!;

    public async Task InitializeAsync() => _inspector = await server.ConnectAsync();

    public async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        await _inspector!.DisposeAsync();
    }

    [Fact]
    public async Task A_send_publishes_the_bare_msgpack_message_on_the_channel_name_and_a_group_send_on_prefix__group__name()
    {
        var (layer, _) = NewLayer();
        var channel = "wire." + Guid.NewGuid().ToString("N");
        var groupChannel = layer.Options.Prefix + "__group__room-1";
        var seen = await CaptureAsync(channel, groupChannel);

        await layer.SendAsync(channel, ChannelMessage.Create("a", [new("n", 1L)]));
        await layer.GroupSendAsync("room-1", ChannelMessage.Create("chat.message", [new("message", "hé")]));

        // msgpack.packb({"type": "a", "n": 1}) and msgpack.packb({"type": "chat.message", "message": "hé"}):
        // no random prefix, no encryption, no __asgi_channel__.
        Assert.Equal(Convert.FromHexString("82A474797065A161A16E01"), await seen[channel].Task.WaitAsync(Timeout));
        Assert.Equal(
            Convert.FromHexString("82A474797065AC636861742E6D657373616765A76D657373616765A368C3A9"),
            await seen[groupChannel].Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task New_channels_are_named_prefix_specific_hex_and_subscribed_when_returned()
    {
        var (layer, _) = NewLayer();
        var name = await layer.NewChannelAsync();
        var custom = await layer.NewChannelAsync("daphne.response");

        Assert.Matches("^" + Regex.Escape(layer.Options.Prefix) + @"specific\.[0-9a-f]{32}$", name);
        Assert.Matches("^" + Regex.Escape(layer.Options.Prefix) + @"daphne\.response\.[0-9a-f]{32}$", custom);
        Assert.Equal(1, await SubscribersAsync(name)); // no wait: Redis confirmed the SUBSCRIBE before NewChannelAsync returned
        Assert.Equal(1, await SubscribersAsync(custom));
    }

    [Fact]
    public async Task A_message_any_client_publishes_is_received()
    {
        var (layer, _) = NewLayer();
        var channel = "worker." + Guid.NewGuid().ToString("N");
        await layer.SubscribeAsync(channel);
        Assert.Equal(1, await SubscribersAsync(channel));

        await Publish(channel, Convert.FromHexString("83A474797065A3726177A362696EC403000102A3666C74CB3FF8000000000000"));

        var message = await layer.ReceiveAsync(channel).AsTask().WaitAsync(Timeout);
        Assert.Equal("raw", message.Type);
        Assert.Equal(new byte[] { 0, 1, 2 }, message.GetBytes("bin")!.Value.ToArray());
        Assert.True(message.TryGetValue("flt", out var flt));
        Assert.Equal(1.5, flt);
    }

    [Fact]
    public async Task Unreadable_payloads_are_dropped_with_a_warning_and_the_next_message_arrives()
    {
        var (layer, logs) = NewLayer();
        var channel = "bad." + Guid.NewGuid().ToString("N");
        await layer.SubscribeAsync(channel);

        await Publish(channel, [0xC1]);                                           // never used in msgpack
        await Publish(channel, Convert.FromHexString("92A161A162"));               // an array, not a map
        await Publish(channel, Convert.FromHexString("81A474657874A26869"));       // {"text": "hi"}: no type
        await Publish(channel, Convert.FromHexString("81A47479706505"));           // {"type": 5}
        await Publish(channel, Convert.FromHexString("81A474797065A2"));           // cut short
        await Publish(channel, Convert.FromHexString("81A474797065A26F6B"));       // {"type": "ok"}

        Assert.Equal("ok", (await layer.ReceiveAsync(channel).AsTask().WaitAsync(Timeout)).Type);
        var warnings = logs.Entries.Where(e => e.EventId.Id == 520).ToArray();
        Assert.Equal(5, warnings.Length);
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.All(warnings, w => Assert.Contains($"'{channel}'", w.Message, StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Message.Contains("no 'type'", StringComparison.Ordinal));
        Assert.Equal(0, layer.DroppedMessages);
    }

    [Fact]
    public async Task Adding_a_channel_this_process_is_not_subscribed_to_is_refused_as_channels_redis_refuses_it()
    {
        var (layer, _) = NewLayer();
        var group = "g" + Guid.NewGuid().ToString("N");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await layer.GroupAddAsync(group, "elsewhere.channel"));

        Assert.Contains("'elsewhere.channel'", error.Message, StringComparison.Ordinal);
        Assert.Contains("GroupAddAsync(group, ChannelName)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await SubscribersAsync(layer.Options.Prefix + "__group__" + group));

        // Discarding it is a no-op (channels_redis 4.0 asserts; later versions made it a no-op too).
        await layer.GroupDiscardAsync(group, "elsewhere.channel");
    }

    [Fact]
    public async Task A_group_subscribes_the_process_once_delivers_to_each_local_member_once_and_unsubscribes_with_the_last_member()
    {
        var (layer, _) = NewLayer();
        var group = "room" + Guid.NewGuid().ToString("N");
        var groupChannel = layer.Options.Prefix + "__group__" + group;
        var members = new[] { await layer.NewChannelAsync(), await layer.NewChannelAsync(), await layer.NewChannelAsync() };
        foreach (var member in members)
        {
            await layer.GroupAddAsync(group, member);
        }

        Assert.Equal(1, await SubscribersAsync(groupChannel));
        await layer.GroupSendAsync(group, ChannelMessage.Create("hello"));
        foreach (var member in members)
        {
            Assert.Equal("hello", (await layer.ReceiveAsync(member).AsTask().WaitAsync(Timeout)).Type);
        }

        await layer.GroupDiscardAsync(group, members[0]);
        await layer.GroupDiscardAsync(group, members[1]);
        Assert.Equal(1, await SubscribersAsync(groupChannel));
        await layer.GroupDiscardAsync(group, members[2]);
        Assert.Equal(0, await SubscribersAsync(groupChannel));
        foreach (var member in members)
        {
            Assert.Equal(1, await SubscribersAsync(member)); // the channels themselves stay subscribed
        }
    }

    [Fact]
    public async Task A_full_buffer_drops_the_arriving_messages_keeps_the_buffered_ones_and_logs_the_run_once()
    {
        var (layer, logs) = NewLayer(options => options.BufferCapacity = 3);
        var channel = await layer.NewChannelAsync();
        for (var i = 0; i < 6; i++)
        {
            await layer.SendAsync(channel, ChannelMessage.Create("n", [new("n", (long)i)]));
        }

        await Until(() => layer.DroppedMessages == 3, "three messages dropped");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(i, (await layer.ReceiveAsync(channel).AsTask().WaitAsync(Timeout)).GetInt64("n"));
        }

        await AssertNothingAsync(layer, channel);
        var full = Assert.Single(logs.Entries, e => e.EventId.Id == 521);
        Assert.Equal(LogLevel.Warning, full.Level);
        Assert.Contains($"'{channel}' is full (3 messages)", full.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 522);

        // It has room again: the next message is kept, and the end of the run is logged with its count.
        await layer.SendAsync(channel, ChannelMessage.Create("n", [new("n", 6L)]));
        Assert.Equal(6, (await layer.ReceiveAsync(channel).AsTask().WaitAsync(Timeout)).GetInt64("n"));
        await Until(() => logs.Entries.Any(e => e.EventId.Id == 522), "the end of the run logged"); // logged right after the hand-over
        var recovered = Assert.Single(logs.Entries, e => e.EventId.Id == 522);
        Assert.Contains("3 message(s) were dropped", recovered.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_channel_whose_last_receive_was_cancelled_is_released_after_the_delay_and_leaves_its_groups()
    {
        var clock = new FakeTimeProvider();
        var (layer, logs) = NewLayer(options =>
        {
            options.TimeProvider = clock;
            options.ReleaseDelay = TimeSpan.FromSeconds(30);
        });
        var channel = await layer.NewChannelAsync();
        var other = await layer.NewChannelAsync();
        var group = "room" + Guid.NewGuid().ToString("N");
        var groupChannel = layer.Options.Prefix + "__group__" + group;
        await layer.GroupAddAsync(group, channel);

        using (var cancel = new CancellationTokenSource())
        {
            var receive = layer.ReceiveAsync(channel, cancel.Token).AsTask();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Timeout));
        }

        await layer.SendAsync(channel, ChannelMessage.Create("unread")); // buffered, never received
        await Until(() => layer.BufferedMessages(channel) == 1, "the message buffered");
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(1, await SubscribersAsync(channel));
        Assert.Equal(1, await SubscribersAsync(groupChannel));

        clock.Advance(TimeSpan.FromSeconds(2));
        await Until(() => SubscribersAsync(channel).GetAwaiter().GetResult() == 0, "the channel unsubscribed");
        await Until(() => SubscribersAsync(groupChannel).GetAwaiter().GetResult() == 0, "the group unsubscribed");
        var released = Assert.Single(logs.Entries, e => e.EventId.Id == 523);
        Assert.Contains($"Released '{channel}'", released.Message, StringComparison.Ordinal);
        Assert.Contains("1 buffered message(s) dropped, left 1 group(s)", released.Message, StringComparison.Ordinal);
        Assert.Equal(1, await SubscribersAsync(other)); // untouched

        // Released means forgotten: it can no longer join a group, and a receive subscribes it afresh (the old message is gone).
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await layer.GroupAddAsync(group, channel));
        var again = layer.ReceiveAsync(channel).AsTask();
        await Until(() => SubscribersAsync(channel).GetAwaiter().GetResult() == 1, "subscribed again");
        await layer.SendAsync(channel, ChannelMessage.Create("fresh"));
        Assert.Equal("fresh", (await again.WaitAsync(Timeout)).Type);
    }

    [Fact]
    public async Task A_receive_within_the_delay_keeps_the_channel_subscribed()
    {
        var clock = new FakeTimeProvider();
        var (layer, logs) = NewLayer(options =>
        {
            options.TimeProvider = clock;
            options.ReleaseDelay = TimeSpan.FromSeconds(30);
        });
        var channel = await layer.NewChannelAsync();
        using (var cancel = new CancellationTokenSource())
        {
            var receive = layer.ReceiveAsync(channel, cancel.Token).AsTask();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Timeout));
        }

        clock.Advance(TimeSpan.FromSeconds(20));
        var waiting = layer.ReceiveAsync(channel).AsTask();
        clock.Advance(TimeSpan.FromSeconds(60));
        await layer.SendAsync(channel, ChannelMessage.Create("kept"));

        Assert.Equal("kept", (await waiting.WaitAsync(Timeout)).Type);
        Assert.Equal(1, await SubscribersAsync(channel));
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 523);
    }

    [Fact]
    public async Task Channels_and_groups_live_on_the_host_their_name_hashes_to_by_crc32()
    {
        var second = new RedisServer();
        await second.InitializeAsync();
        try
        {
            await ShardedAsync(second);
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private async Task ShardedAsync(RedisServer second)
    {
        await using var secondInspector = await second.ConnectAsync();
        string[] urls = [server.Url, second.Url];
        var (receiver, _) = NewLayer(options => options.Hosts.Add(RedisHost.FromAddress(second.Url)));
        var (sender, _) = NewLayer(options =>
        {
            options.Prefix = receiver.Options.Prefix;
            options.Hosts.Add(RedisHost.FromAddress(second.Url));
        });
        Assert.Equal(urls, receiver.Options.Hosts.Select(h => h.Address));

        var used = new HashSet<int>();
        for (var i = 0; i < 12; i++)
        {
            var channel = await receiver.NewChannelAsync();
            var group = $"room-{i}";
            var groupChannel = receiver.Options.Prefix + "__group__" + group;
            await receiver.GroupAddAsync(group, channel);

            var channelHost = ConsistentHash.Index(channel, 2);
            var groupHost = ConsistentHash.Index(groupChannel, 2);
            used.Add(channelHost);
            used.Add(groupHost);
            Assert.Equal(new[] { channelHost == 0 ? 1L : 0L, channelHost == 1 ? 1L : 0L }, new[] { await Count(Inspector, channel), await Count(secondInspector, channel) });
            Assert.Equal(new[] { groupHost == 0 ? 1L : 0L, groupHost == 1 ? 1L : 0L }, new[] { await Count(Inspector, groupChannel), await Count(secondInspector, groupChannel) });

            await sender.SendAsync(channel, ChannelMessage.Create("direct", [new("i", (long)i)]));
            await sender.GroupSendAsync(group, ChannelMessage.Create("group", [new("i", (long)i)]));
            var first = await receiver.ReceiveAsync(channel).AsTask().WaitAsync(Timeout);
            var next = await receiver.ReceiveAsync(channel).AsTask().WaitAsync(Timeout);
            Assert.Equal(["direct", "group"], new[] { first.Type, next.Type }.Order(StringComparer.Ordinal));
        }

        Assert.Equal(new[] { 0, 1 }, used.Order()); // both hosts were used

        static async Task<long> Count(ConnectionMultiplexer inspector, string channel) =>
            await inspector.GetServer(inspector.GetEndPoints()[0]).SubscriptionSubscriberCountAsync(RedisChannel.Literal(channel));
    }

    [Fact]
    public async Task With_Redis_unreachable_every_operation_that_needs_it_fails_fast_naming_the_host_and_nothing_is_left_subscribed()
    {
        var port = RedisServer.FreePort(); // nothing listens there
        var (layer, _) = NewLayer(options =>
        {
            options.Hosts.Clear();
            options.Hosts.Add(RedisHost.FromAddress($"redis://127.0.0.1:{port}/0"));
            options.ConnectTimeout = TimeSpan.FromSeconds(1);
        });

        var send = await Assert.ThrowsAsync<ChannelLayerUnavailableException>(async () => await layer.SendAsync("some.channel", ChannelMessage.Create("x")).AsTask().WaitAsync(Timeout));
        Assert.Contains($"127.0.0.1:{port}", send.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ChannelLayerUnavailableException>(async () => await layer.NewChannelAsync().AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAsync<ChannelLayerUnavailableException>(async () => await layer.ReceiveAsync("some.channel").AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAsync<ChannelLayerUnavailableException>(async () => await layer.GroupSendAsync("room", ChannelMessage.Create("x")).AsTask().WaitAsync(Timeout));

        // The failed subscription left nothing behind: the channel is unknown, so it cannot join a group.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await layer.GroupAddAsync("room", "some.channel"));
    }

    [Fact]
    public async Task Invalid_names_and_options_are_refused_before_anything_is_sent()
    {
        var (layer, _) = NewLayer();
        await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await layer.SubscribeAsync("bad name"));
        await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await layer.SubscribeAsync(null!));
        var tooLong = await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await layer.NewChannelAsync(new string('p', 60)));
        Assert.Contains("characters long", tooLong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await layer.SendAsync("ok", null!));

        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisPubSubChannelLayer(new RedisPubSubChannelLayerOptions { BufferCapacity = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisPubSubChannelLayer(new RedisPubSubChannelLayerOptions { ReleaseDelay = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisPubSubChannelLayer(new RedisPubSubChannelLayerOptions { ConnectTimeout = TimeSpan.Zero }));
        var prefix = Assert.Throws<ArgumentException>(() => new RedisPubSubChannelLayer(new RedisPubSubChannelLayerOptions { Prefix = "asgi:" }));
        Assert.Equal("Prefix", prefix.ParamName);
        var host = new RedisPubSubChannelLayerOptions();
        host.Hosts.Add(RedisHost.FromAddress("http://127.0.0.1"));
        Assert.Throws<ArgumentException>(() => new RedisPubSubChannelLayer(host));
        Assert.Throws<ArgumentNullException>(() => new RedisPubSubChannelLayer(null!));
    }

    [Fact]
    public async Task An_empty_prefix_makes_names_channels_redis_would_make_with_prefix_empty()
    {
        var (layer, _) = NewLayer(options => options.Prefix = "");
        var name = await layer.NewChannelAsync();
        Assert.Matches(@"^specific\.[0-9a-f]{32}$", name);
        await layer.SendAsync(name, ChannelMessage.Create("x"));
        Assert.Equal("x", (await layer.ReceiveAsync(name).AsTask().WaitAsync(Timeout)).Type);
    }

    private (RedisPubSubChannelLayer Layer, RecordingLoggerProvider Logs) NewLayer(Action<RedisPubSubChannelLayerOptions>? configure = null)
    {
        var options = new RedisPubSubChannelLayerOptions { Prefix = $"ps{Guid.NewGuid():N}" };
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        configure?.Invoke(options);
        var logs = new RecordingLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var layer = new RedisPubSubChannelLayer(options, factory);
        _disposables.Add(new AsyncDisposableAction(factory.Dispose));
        _disposables.Add(layer);
        return (layer, logs);
    }

    /// <summary>Subscribes a plain client to <paramref name="channels"/>; each task completes with the first payload.</summary>
    private async Task<Dictionary<string, TaskCompletionSource<byte[]>>> CaptureAsync(params string[] channels)
    {
        var seen = channels.ToDictionary(c => c, _ => new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        var subscriber = Inspector.GetSubscriber();
        foreach (var channel in channels)
        {
            await subscriber.SubscribeAsync(RedisChannel.Literal(channel), (_, value) => seen[channel].TrySetResult((byte[])value!));
        }

        return seen;
    }

    private Task Publish(string channel, byte[] payload) => Inspector.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);

    private async Task<long> SubscribersAsync(string channel) =>
        await Inspector.GetServer(Inspector.GetEndPoints()[0]).SubscriptionSubscriberCountAsync(RedisChannel.Literal(channel));

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for: {what}.");
            await Task.Delay(20);
        }
    }

    private static async Task AssertNothingAsync(RedisPubSubChannelLayer layer, string channel)
    {
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await layer.ReceiveAsync(channel, quiet.Token));
    }

    private sealed class AsyncDisposableAction(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}
