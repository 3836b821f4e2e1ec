using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// The receive pump pops a key's backlog in batches (<c>BZMPOP … COUNT 128</c>) and hands every message
/// to its channels in score order; on a server without BZMPOP (before Redis 7) it falls back to
/// <c>BZPOPMIN</c> + <c>ZPOPMIN</c> with the same results.
/// </summary>
public abstract class ReceivePumpTests(RedisServer server)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_backlog_of_many_batches_reaches_every_channel_in_order()
    {
        const int channels = 5;
        const int perChannel = 300; // 1,500 messages under one key: twelve pops of 128
        await using var receiver = NewLayer(NewPrefix("pump"), capacity: 2_000);
        await using var sender = NewLayer(receiver.Options.Prefix, capacity: 2_000);
        var names = new string[channels];
        for (var c = 0; c < channels; c++)
        {
            names[c] = await receiver.NewChannelAsync();
        }

        for (var i = 0; i < perChannel; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                await sender.SendAsync(names[c], Numbered(i));
            }
        }

        var received = await Task.WhenAll(names.Select(name => ReceiveAsync(receiver, name, perChannel))).WaitAsync(Wait);

        Assert.All(received, static sequence => Assert.Equal(Enumerable.Range(0, perChannel), sequence));
        await using var redis = await server.ConnectAsync();
        Assert.Equal(0, await redis.GetDatabase().SortedSetLengthAsync($"{receiver.Options.Prefix}specific.{receiver.ClientPrefix}!"));
    }

    [Fact]
    public async Task Group_sends_arriving_while_a_batch_is_handed_over_keep_their_order()
    {
        await using var receiver = NewLayer(NewPrefix("pumpgroup"), capacity: 1_000);
        await using var sender = NewLayer(receiver.Options.Prefix, capacity: 1_000);
        var group = $"pump{Guid.NewGuid():N}";
        var names = new string[50];
        for (var c = 0; c < names.Length; c++)
        {
            names[c] = await receiver.NewChannelAsync();
            await sender.GroupAddAsync(group, names[c]);
        }

        var receiving = names.Select(name => ReceiveAsync(receiver, name, 400)).ToArray();
        for (var i = 0; i < 400; i++)
        {
            await sender.GroupSendAsync(group, Numbered(i));
        }

        var received = await Task.WhenAll(receiving).WaitAsync(Wait);
        Assert.All(received, static sequence => Assert.Equal(Enumerable.Range(0, 400), sequence));
    }

    [Fact]
    public async Task Keys_of_several_prefixes_are_all_read()
    {
        await using var receiver = NewLayer(NewPrefix("pumpkeys"));
        await using var sender = NewLayer(receiver.Options.Prefix);
        var names = new List<string>();
        for (var k = 0; k < 4; k++)
        {
            names.Add(await receiver.NewChannelAsync($"kind{k}"));
        }

        for (var i = 0; i < 3; i++)
        {
            foreach (var name in names)
            {
                await sender.SendAsync(name, Numbered(i));
            }
        }

        var received = await Task.WhenAll(names.Select(name => ReceiveAsync(receiver, name, 3))).WaitAsync(Wait);
        Assert.All(received, static sequence => Assert.Equal([0, 1, 2], sequence));
    }

    [Fact]
    public async Task Own_sends_go_in_process_only_once_their_backlog_in_Redis_is_drained()
    {
        await using var layer = NewLayer(NewPrefix("pumpswitch"), capacity: 400);
        var channel = await layer.NewChannelAsync();
        for (var i = 0; i < 150; i++)
        {
            await layer.SendAsync(channel, Numbered(i));
        }

        var receiving = ReceiveAsync(layer, channel, 300);
        for (var i = 150; i < 300; i++)
        {
            await layer.SendAsync(channel, Numbered(i));
        }

        Assert.Equal(Enumerable.Range(0, 300), await receiving.WaitAsync(Wait));
        var deadline = DateTime.UtcNow + Wait;
        while (!layer.DeliversInProcess(channel))
        {
            Assert.True(DateTime.UtcNow < deadline, "sends never switched to in-process delivery");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_channel_of_a_new_prefix_is_read_at_once_while_the_pump_blocks()
    {
        // A pop timeout far longer than the wait below: the message can only come in time if the blocked pump is woken.
        await using var receiver = NewLayer(NewPrefix("pumpwake"), blockingPopTimeout: LongPop);
        await using var sender = NewLayer(receiver.Options.Prefix);
        var first = await receiver.NewChannelAsync("first");
        var waiting = receiver.ReceiveAsync(first).AsTask();
        await WaitUntilBlockedAsync(receiver, 1);

        var second = await receiver.NewChannelAsync("second");
        var receiving = receiver.ReceiveAsync(second).AsTask();
        await sender.SendAsync(second, Numbered(1));
        Assert.Equal(1, (await receiving.WaitAsync(ShortWait)).GetInt64("seq"));

        await sender.SendAsync(first, Numbered(2));
        Assert.Equal(2, (await waiting.WaitAsync(ShortWait)).GetInt64("seq"));
    }

    [Fact]
    public async Task Disposing_does_not_wait_for_blocking_pops_in_flight()
    {
        var layer = NewLayer(NewPrefix("pumpdispose"), blockingPopTimeout: LongPop);
        var local = layer.ReceiveAsync(await layer.NewChannelAsync()).AsTask();
        var plain = layer.ReceiveAsync($"work{Guid.NewGuid():N}").AsTask();
        await WaitUntilBlockedAsync(layer, 2); // the pump and the plain receive

        await layer.DisposeAsync().AsTask().WaitAsync(ShortWait);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => local.WaitAsync(ShortWait));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => plain.WaitAsync(ShortWait));
    }

    /// <summary>A blocking pop far longer than <see cref="ShortWait"/>.</summary>
    private static readonly TimeSpan LongPop = TimeSpan.FromSeconds(60);

    /// <summary>Far shorter than <see cref="LongPop"/>, far longer than a round trip on a loaded machine.</summary>
    private static readonly TimeSpan ShortWait = TimeSpan.FromSeconds(15);

    /// <summary>Waits until <paramref name="count"/> of <paramref name="layer"/>'s connections are blocked in a pop on the server.</summary>
    private async Task WaitUntilBlockedAsync(RedisChannelLayer layer, int count)
    {
        await using var redis = await server.ConnectAsync(allowAdmin: true);
        var admin = redis.GetServer(redis.GetEndPoints()[0]);
        var deadline = DateTime.UtcNow + Wait;
        while ((await admin.ClientListAsync()).Count(c => c.Name == "channels.net.receive." + layer.ClientPrefix && c.Flags.HasFlag(StackExchange.Redis.ClientFlags.Blocked)) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the layer's pops never blocked");
            await Task.Delay(10);
        }
    }

    /// <summary>A layer on the fixture's server; layers that share channels must share <paramref name="prefix"/>.</summary>
    private RedisChannelLayer NewLayer(string prefix, int capacity = 100, TimeSpan? blockingPopTimeout = null)
    {
        var options = new RedisChannelLayerOptions
        {
            Prefix = prefix,
            Capacity = capacity,
            BlockingPopTimeout = blockingPopTimeout ?? TimeSpan.FromSeconds(1),
        };
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        return new RedisChannelLayer(options);
    }

    private static string NewPrefix(string name) => $"{name}{Guid.NewGuid():N}";

    private static ChannelMessage Numbered(int seq) => ChannelMessage.Create("test.message", [new("seq", (long)seq)]);

    private static async Task<int[]> ReceiveAsync(RedisChannelLayer layer, string channel, int count)
    {
        var received = new int[count];
        for (var i = 0; i < count; i++)
        {
            received[i] = (int)((await layer.ReceiveAsync(channel)).GetInt64("seq") ?? -1);
        }

        return received;
    }
}

/// <summary>The pump on this machine's Redis (7.x: BZMPOP).</summary>
public sealed class BzmpopReceivePumpTests(RedisServer server) : ReceivePumpTests(server), IClassFixture<RedisServer>;

/// <summary>The pump on a server that has no BZMPOP, as before Redis 7.0.</summary>
public sealed class LegacyReceivePumpTests(LegacyReceivePumpTests.ServerWithoutBzmpop fixture)
    : ReceivePumpTests(fixture.Server), IClassFixture<LegacyReceivePumpTests.ServerWithoutBzmpop>
{
    [Fact]
    public async Task The_server_really_has_no_BZMPOP()
    {
        await using var redis = await fixture.Server.ConnectAsync();

        var error = await Assert.ThrowsAsync<StackExchange.Redis.RedisServerException>(() => redis.GetDatabase().ExecuteAsync("BZMPOP", 1, 1, "k", "MIN"));
        Assert.StartsWith("ERR unknown command", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A redis-server with BZMPOP renamed away.</summary>
    public sealed class ServerWithoutBzmpop : IAsyncLifetime
    {
        public RedisServer Server { get; } = new() { ExtraArguments = ["--rename-command", "BZMPOP", ""] };

        public Task InitializeAsync() => Server.InitializeAsync();

        public Task DisposeAsync() => Server.DisposeAsync();
    }
}
