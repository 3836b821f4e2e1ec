using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Layers;
using Channels.Net.Redis;
using Channels.Net.Redis.Sharding;
using Channels.Net.Testing.Conformance;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Interop.Tests;

/// <summary>
/// Sharding over two and three redis-servers, with the real channels_redis configured with the same
/// host list: group sends both ways, where each key lands (read from each server directly), and what
/// channels_redis #221 does to direct sends to <c>!</c> channels.
/// </summary>
/// <remarks>
/// <para>Both sides place keys with channels_redis's ring, <c>int((crc32(utf8(v)) &amp; 0xFFF) / (4096 / n))</c>:
/// a group key by the group name, a channel key by the channel's non-local name, so process-local keys
/// (<c>{prefix}specific.{client}!</c>) sit where their process reads them.</para>
/// <para>channels_redis 4.0's <c>send()</c> to a <c>!</c> channel picks the host by the hash of the
/// <b>full</b> name (#221) while its receiver reads the host of the non-local name: when the two differ
/// (about n-1 of n channel names with n hosts) the message waits on a host nobody reads until it
/// expires. Channels.Net hashes the non-local name on send. These tests pin down every combination.</para>
/// </remarks>
[Collection(InteropCollection.Name)]
public sealed class ShardingTests(InteropEnvironment env, ShardingTests.Shards servers) : IClassFixture<ShardingTests.Shards>
{
    /// <summary>How long a receive waits before a test concludes that a message will never come to it.</summary>
    private static readonly TimeSpan Absent = TimeSpan.FromSeconds(2);

    public static TheoryData<int, Direction> ShardsAndDirections()
    {
        var data = new TheoryData<int, Direction>();
        foreach (var shards in new[] { 2, 3 })
        {
            foreach (var direction in Enum.GetValues<Direction>())
            {
                data.Add(shards, direction);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShardsAndDirections))]
    public async Task Group_send_reaches_members_of_both_processes_on_every_shard_and_keys_sit_where_python_puts_them(int shards, Direction direction)
    {
        await using var cluster = new Cluster(env, servers, shards);

        // Layers on each side until their process keys cover every shard (client prefixes are random).
        var dotNets = await cluster.CoverEveryShardAsync(() => Task.FromResult<ILayerSide>(cluster.CreateDotNet()));
        var pythons = await cluster.CoverEveryShardAsync(async () => await cluster.CreatePythonAsync());
        var sender = direction == Direction.DotNetToPython ? dotNets[0] : pythons[0];

        // One group per shard; a process-local member in every layer (each adds its own, as consumers do),
        // and a plain-channel member per shard.
        var groups = Enumerable.Range(0, shards).Select(s => cluster.NameOnShard("room-", s)).ToArray();
        var workers = Enumerable.Range(0, shards).Select(s => cluster.NameOnShard("group-worker-", s)).ToArray();
        var members = new List<(ILayerSide Side, string Channel)>();
        foreach (var side in dotNets.Concat(pythons))
        {
            var channel = await side.NewChannelAsync();
            members.Add((side, channel));
            foreach (var group in groups)
            {
                await side.GroupAddAsync(group, channel);
            }
        }

        foreach (var group in groups)
        {
            foreach (var worker in workers)
            {
                await pythons[^1].GroupAddAsync(group, worker);
            }
        }

        var messages = groups.Select((g, i) => Messages.Of("chat.message", ("group", g), ("n", (long)i), ("text", "hello from " + sender.Process))).ToArray();
        for (var i = 0; i < groups.Length; i++)
        {
            await sender.GroupSendAsync(groups[i], messages[i]);
        }

        // Before anyone receives: every key is on the shard the ring names, and on no other.
        foreach (var group in groups)
        {
            await cluster.AssertOnlyOnAsync(cluster.Prefix + ":group:" + group, ConsistentHash.Index(group, shards), members.Count + workers.Length);
        }

        foreach (var side in dotNets.Concat(pythons))
        {
            var nonLocal = "specific." + side.ClientPrefix + "!";
            await cluster.AssertOnlyOnAsync(cluster.Prefix + nonLocal, ConsistentHash.Index(nonLocal, shards), groups.Length);
        }

        foreach (var worker in workers)
        {
            await cluster.AssertOnlyOnAsync(cluster.Prefix + worker, ConsistentHash.Index(worker, shards), groups.Length);
        }

        // Every member gets every group's message, once and in order: a .NET direct send (which lands
        // where the receiver reads, whatever the process) is the next thing each member receives.
        var marker = Messages.Of("marker");
        foreach (var (side, channel) in members)
        {
            foreach (var message in messages)
            {
                MessageAssert.Equal(message, await side.ReceiveAsync(channel));
            }

            await dotNets[0].SendOkAsync(channel, marker);
            MessageAssert.Equal(marker, await side.ReceiveAsync(channel));
        }

        foreach (var side in dotNets.Concat(pythons))
        {
            var nonLocal = "specific." + side.ClientPrefix + "!";
            Assert.Equal(0, await cluster.LengthAsync(ConsistentHash.Index(nonLocal, shards), cluster.Prefix + nonLocal));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Direct_sends_to_bang_channels_land_where_the_receiver_reads_except_pythons_221(int shards)
    {
        await using var cluster = new Cluster(env, servers, shards);
        var dotNet = cluster.CreateDotNet();
        var python = await cluster.CreatePythonAsync();
        var dotNetKey = "specific." + dotNet.ClientPrefix + "!";
        var pythonKey = "specific." + python.ClientPrefix + "!";

        // Channel names of each process whose full name hashes to another shard than the non-local name,
        // and names whose two hashes agree.
        var dotNetSplit = Cluster.BangChannel(dotNet, shards, split: true);
        var pythonSplit = Cluster.BangChannel(python, shards, split: true);
        var dotNetSame = Cluster.BangChannel(dotNet, shards, split: false);
        var pythonSame = Cluster.BangChannel(python, shards, split: false);

        // Channels.Net hashes the non-local name: its sends arrive whatever the full name hashes to,
        // to its own channels and to Python's.
        var fromDotNet = Messages.Of("direct", ("from", ".NET"));
        await dotNet.SendOkAsync(dotNetSplit, fromDotNet);
        MessageAssert.Equal(fromDotNet, await dotNet.ReceiveAsync(dotNetSplit));
        await dotNet.SendOkAsync(pythonSplit, fromDotNet);
        MessageAssert.Equal(fromDotNet, await python.ReceiveAsync(pythonSplit));

        // channels_redis delivers when both hashes agree...
        var fromPython = Messages.Of("direct", ("from", "Python"));
        await python.SendOkAsync(pythonSame, fromPython);
        MessageAssert.Equal(fromPython, await python.ReceiveAsync(pythonSame));
        await python.SendOkAsync(dotNetSame, fromPython);
        MessageAssert.Equal(fromPython, await dotNet.ReceiveAsync(dotNetSame));

        // ...and otherwise puts the message under the right key on the shard of the FULL name, which no
        // receiver reads: neither Python's own (#221) nor ours gets it.
        var lost = Messages.Of("direct", ("from", "Python"), ("lost", true));
        await python.SendOkAsync(pythonSplit, lost);
        await python.SendOkAsync(dotNetSplit, lost);
        Assert.Null(await python.TryReceiveAsync(pythonSplit, Absent));
        Assert.Null(await dotNet.TryReceiveAsync(dotNetSplit, Absent));
        await cluster.AssertOnlyOnAsync(cluster.Prefix + pythonKey, ConsistentHash.Index(pythonSplit, shards), 1);
        await cluster.AssertOnlyOnAsync(cluster.Prefix + dotNetKey, ConsistentHash.Index(dotNetSplit, shards), 1);
        Assert.NotEqual(ConsistentHash.Index(pythonKey, shards), ConsistentHash.Index(pythonSplit, shards));
        Assert.NotEqual(ConsistentHash.Index(dotNetKey, shards), ConsistentHash.Index(dotNetSplit, shards));

        // A later message that lands right is still delivered: the lost one only waits out its expiry.
        var after = Messages.Of("direct", ("after", true));
        await dotNet.SendOkAsync(pythonSplit, after);
        await dotNet.SendOkAsync(dotNetSplit, after);
        MessageAssert.Equal(after, await python.ReceiveAsync(pythonSplit));
        MessageAssert.Equal(after, await dotNet.ReceiveAsync(dotNetSplit));
    }

    [Fact]
    public async Task Plain_channels_round_robin_over_three_shards_and_each_message_is_received_exactly_once()
    {
        const int Shards = 3;
        const int PerShard = 10;
        await using var cluster = new Cluster(env, servers, Shards);
        var sender = cluster.CreateDotNet();
        var receiver = cluster.CreateDotNet();
        const string Worker = "round-robin-worker";

        for (var i = 0; i < Shards * PerShard; i++)
        {
            await sender.SendOkAsync(Worker, Messages.Of("job", ("n", (long)i)));
        }

        for (var shard = 0; shard < Shards; shard++)
        {
            Assert.Equal(PerShard, await cluster.LengthAsync(shard, cluster.Prefix + Worker));
        }

        var received = new List<long>();
        for (var i = 0; i < Shards * PerShard; i++)
        {
            received.Add((long)(await receiver.ReceiveAsync(Worker))["n"]!);
        }

        Assert.Equal(Enumerable.Range(0, Shards * PerShard).Select(i => (long)i), received.Order());
        for (var shard = 0; shard < Shards; shard++)
        {
            Assert.Equal(0, await cluster.LengthAsync(shard, cluster.Prefix + Worker));
        }
    }

    /// <summary>Three redis-servers for the class, each with a connection to read it directly.</summary>
    public sealed class Shards : IAsyncLifetime
    {
        private readonly List<ConnectionMultiplexer> _inspectors = [];

        public RedisServer[] Servers { get; } = [new(), new(), new()];

        public IDatabase Inspect(int shard) => _inspectors[shard].GetDatabase();

        public async Task InitializeAsync()
        {
            try
            {
                foreach (var server in Servers)
                {
                    await server.InitializeAsync();
                    _inspectors.Add(await server.ConnectAsync());
                }
            }
            catch
            {
                await DisposeAsync(); // never leave a server behind a failed start
                throw;
            }
        }

        public async Task DisposeAsync()
        {
            foreach (var inspector in _inspectors)
            {
                await inspector.CloseAsync();
                inspector.Dispose();
            }

            _inspectors.Clear();
            foreach (var server in Servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>The first <c>n</c> servers as one host list, shared by the layers a test opens on a fresh prefix.</summary>
    private sealed class Cluster(InteropEnvironment env, Shards servers, int shards) : IAsyncDisposable
    {
        private readonly List<ILayerSide> _sides = [];

        public string Prefix { get; } = InteropEnvironment.NewPrefix();

        private string[] Hosts { get; } = [.. servers.Servers.Take(shards).Select(s => s.Url)];

        public DotNetSide CreateDotNet()
        {
            var options = new RedisChannelLayerOptions { Prefix = Prefix, BlockingPopTimeout = TimeSpan.FromSeconds(1) };
            foreach (var host in Hosts)
            {
                options.Hosts.Add(RedisHost.FromAddress(host));
            }

            var logs = new RecordingLoggerProvider();
            var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
            var side = new DotNetSide(new RedisChannelLayer(options, factory), factory, logs);
            _sides.Add(side);
            return side;
        }

        public async Task<PythonSide> CreatePythonAsync()
        {
            var side = new PythonSide(await env.Peer.OpenLayerAsync(new PythonLayerConfig { Hosts = Hosts, Prefix = Prefix }));
            _sides.Add(side);
            return side;
        }

        /// <summary>Opens layers until their process keys (<c>specific.{client}!</c>) cover every shard; keeps one per shard.</summary>
        public async Task<ILayerSide[]> CoverEveryShardAsync(Func<Task<ILayerSide>> open)
        {
            var byShard = new ILayerSide?[shards];
            for (var attempt = 0; attempt < 100 && byShard.Any(s => s is null); attempt++)
            {
                var side = await open();
                byShard[ConsistentHash.Index("specific." + side.ClientPrefix + "!", shards)] ??= side;
            }

            Assert.All(byShard, side => Assert.NotNull(side));
            return byShard!;
        }

        /// <summary>The first name <c>{stem}{i}</c> the ring puts on <paramref name="shard"/>.</summary>
        public string NameOnShard(string stem, int shard) =>
            Enumerable.Range(0, 10_000).Select(i => stem + i).First(name => ConsistentHash.Index(name, shards) == shard);

        /// <summary>A process-local channel of <paramref name="side"/> whose full name hashes to another shard
        /// than its non-local name (<paramref name="split"/>), or to the same one.</summary>
        public static string BangChannel(ILayerSide side, int shards, bool split)
        {
            var nonLocal = "specific." + side.ClientPrefix + "!";
            var home = ConsistentHash.Index(nonLocal, shards);
            return Enumerable.Range(0, 10_000).Select(i => nonLocal + "c" + i).First(name => (ConsistentHash.Index(name, shards) != home) == split);
        }

        public async Task<long> LengthAsync(int shard, string key) => await servers.Inspect(shard).SortedSetLengthAsync(key);

        /// <summary>Asserts that <paramref name="key"/> holds <paramref name="length"/> entries on <paramref name="shard"/> and does not exist on any other.</summary>
        public async Task AssertOnlyOnAsync(string key, int shard, long length)
        {
            for (var s = 0; s < shards; s++)
            {
                var exists = await servers.Inspect(s).KeyExistsAsync(key);
                Assert.True(exists == (s == shard), $"'{key}' should be on shard {shard} only, but shard {s} {(exists ? "has" : "lacks")} it.");
            }

            Assert.Equal(length, await LengthAsync(shard, key));
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var side in _sides)
            {
                await side.DisposeAsync(); // Python's close flushes the prefix on every shard
            }
        }
    }
}
