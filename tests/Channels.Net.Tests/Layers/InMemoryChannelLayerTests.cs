using System.Text.RegularExpressions;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Channels.Net.Tests.Layers;

/// <summary>What only the in-memory layer promises: sweeping, options, names, logging.</summary>
public sealed class InMemoryChannelLayerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();

    private InMemoryChannelLayer NewLayer(Action<InMemoryChannelLayerOptions>? configure = null, ILogger<InMemoryChannelLayer>? logger = null)
    {
        var options = new InMemoryChannelLayerOptions { TimeProvider = _time };
        configure?.Invoke(options);
        return new InMemoryChannelLayer(options, logger);
    }

    private static ChannelMessage Msg(string type) => ChannelMessage.Create(type);

    private static async Task AssertNoMessageAsync(InMemoryChannelLayer layer, string channel)
    {
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await layer.ReceiveAsync(channel, quiet.Token).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task IdleChannels_AreSwept_AfterSendsAndReceivesComplete()
    {
        await using var layer = NewLayer(); // expiry 60 s: a sweep every 10 s
        for (var i = 0; i < 5; i++)
        {
            await layer.SendAsync($"idle.{i}", Msg("test.idle"));
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("test.idle", (await layer.ReceiveAsync($"idle.{i}").AsTask().WaitAsync(Timeout)).Type);
        }

        Assert.Equal(5, layer.ChannelCount);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, layer.ChannelCount);

        // A swept channel works as before.
        await layer.SendAsync("idle.0", Msg("test.again"));
        Assert.Equal(1, layer.ChannelCount);
        Assert.Equal("test.again", (await layer.ReceiveAsync("idle.0").AsTask().WaitAsync(Timeout)).Type);
    }

    [Fact]
    public async Task NewChannelNames_CreateNoQueue()
    {
        await using var layer = NewLayer();
        for (var i = 0; i < 10; i++)
        {
            await layer.NewChannelAsync();
        }

        Assert.Equal(0, layer.ChannelCount);
    }

    [Fact]
    public async Task ChannelWithPendingMessage_IsKeptUntilTheMessageExpires()
    {
        await using var layer = NewLayer(o => o.Expiry = TimeSpan.FromSeconds(20)); // sweep every 10 s
        await layer.SendAsync("pending", Msg("test.pending"));

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, layer.ChannelCount);

        _time.Advance(TimeSpan.FromSeconds(10)); // the message expires at 20 s: this sweep drops it and the channel
        Assert.Equal(0, layer.ChannelCount);
        await AssertNoMessageAsync(layer, "pending");
    }

    [Fact]
    public async Task WaitingReceiver_KeepsItsChannel_UntilCancelled()
    {
        await using var layer = NewLayer();
        using var cancel = new CancellationTokenSource();
        var receive = layer.ReceiveAsync("waiting", cancel.Token).AsTask();

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, layer.ChannelCount);
        Assert.False(receive.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Timeout));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, layer.ChannelCount);
    }

    [Fact]
    public async Task GroupMembers_AreKept_UntilDiscarded()
    {
        await using var layer = NewLayer();
        await layer.GroupAddAsync("room", "member");

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, layer.ChannelCount);
        await layer.GroupSendAsync("room", Msg("test.still"));
        Assert.Equal("test.still", (await layer.ReceiveAsync("member").AsTask().WaitAsync(Timeout)).Type);

        await layer.GroupDiscardAsync("room", "member");
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, layer.ChannelCount);
    }

    [Fact]
    public async Task LapsedMemberships_AreSweptWithTheirChannels()
    {
        await using var layer = NewLayer(o => o.GroupExpiry = TimeSpan.FromSeconds(25));
        await layer.GroupAddAsync("room", "lapsing");
        await layer.GroupAddAsync("other", "lapsing");

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1, layer.ChannelCount);
        _time.Advance(TimeSpan.FromSeconds(10)); // the sweep at 30 s ends both memberships, then forgets the idle channel
        Assert.Equal(0, layer.ChannelCount);

        await layer.GroupSendAsync("room", Msg("test.lapsed"));
        await layer.GroupSendAsync("other", Msg("test.lapsed"));
        await AssertNoMessageAsync(layer, "lapsing");
    }

    [Fact]
    public async Task ExpiredMessage_FoundByTheSweep_RemovesItsChannelFromGroups()
    {
        await using var layer = NewLayer(o => o.Expiry = TimeSpan.FromSeconds(2)); // sweep every 1 s
        await layer.GroupAddAsync("room", "dead");
        await layer.GroupAddAsync("room", "alive");
        await layer.SendAsync("dead", Msg("test.unread"));

        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(1, layer.ChannelCount); // "dead" left the group and was forgotten; "alive" is a member

        await layer.GroupSendAsync("room", Msg("test.group"));
        Assert.Equal("test.group", (await layer.ReceiveAsync("alive").AsTask().WaitAsync(Timeout)).Type);
        await AssertNoMessageAsync(layer, "dead");
    }

    [Fact]
    public async Task ExpiredMessage_FoundByGroupSendBeforeAnySweep_SkipsThatMember()
    {
        // Django's group_send cleans expired messages first: a channel whose message expired leaves its
        // groups and does not get the group message. Here the sweep has not run yet when the group send
        // finds the expired message.
        await using var layer = NewLayer(o => o.Expiry = TimeSpan.FromSeconds(30)); // sweeps at 10, 20, 30 s
        _time.Advance(TimeSpan.FromSeconds(1));
        await layer.GroupAddAsync("room", "dead");
        await layer.GroupAddAsync("room", "alive");
        await layer.SendAsync("dead", Msg("test.unread")); // expires at 31 s

        _time.Advance(TimeSpan.FromSeconds(29)); // now 30 s: the sweeps ran, the message is not yet expired
        Assert.Equal(2, layer.ChannelCount);
        _time.Advance(TimeSpan.FromSeconds(1.5)); // now 31.5 s: expired, and the next sweep is at 40 s
        await layer.GroupSendAsync("room", Msg("test.group"));

        Assert.Equal("test.group", (await layer.ReceiveAsync("alive").AsTask().WaitAsync(Timeout)).Type);
        await AssertNoMessageAsync(layer, "dead");
        await layer.GroupSendAsync("room", Msg("test.group.again"));
        await AssertNoMessageAsync(layer, "dead");
    }

    [Fact]
    public async Task ExpiredMessage_FoundByReceive_RemovesItsChannelFromGroups()
    {
        await using var layer = NewLayer(o => o.Expiry = TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(1));
        await layer.GroupAddAsync("room", "dead");
        await layer.SendAsync("dead", Msg("test.unread")); // expires at 31 s
        _time.Advance(TimeSpan.FromSeconds(29)); // now 30 s: the sweeps ran, the message is not yet expired
        _time.Advance(TimeSpan.FromSeconds(1.5)); // now 31.5 s: expired, and the next sweep is at 40 s

        await AssertNoMessageAsync(layer, "dead"); // the receive drops the expired message...
        await layer.GroupSendAsync("room", Msg("test.group"));
        await AssertNoMessageAsync(layer, "dead"); // ...and the channel is no longer a member
    }

    /// <summary>A waiting receive's result taken a second time throws, and leaves the channel's pooled waiter
    /// (already serving the next receive) alone: that receive still gets its message.</summary>
    [Fact]
    public async Task WaitingReceive_TakenTwice_ThrowsAndSparesTheNextReceive()
    {
        await using var layer = NewLayer();
        var first = layer.ReceiveAsync("twice");
        Assert.False(first.IsCompleted);
        await layer.SendAsync("twice", Msg("test.first"));
        Assert.Equal("test.first", (await first).Type);

        var second = layer.ReceiveAsync("twice"); // Waits on the same pooled waiter.
        Assert.False(second.IsCompleted);
#pragma warning disable xUnit1031 // The misuse under test: taking a completed receive's result a second time.
        Assert.Throws<InvalidOperationException>(() => first.GetAwaiter().GetResult());
#pragma warning restore xUnit1031

        await layer.SendAsync("twice", Msg("test.second"));
        Assert.Equal("test.second", (await second.AsTask().WaitAsync(Timeout)).Type);
    }

    [Fact]
    public async Task GroupSend_HandsTheSameImmutableMessageToEveryMember()
    {
        await using var layer = NewLayer();
        await layer.GroupAddAsync("room", "a");
        await layer.GroupAddAsync("room", "b");
        var message = ChannelMessage.Create("test.shared", [new("n", 1)]);

        await layer.GroupSendAsync("room", message);

        Assert.Same(message, await layer.ReceiveAsync("a").AsTask().WaitAsync(Timeout));
        Assert.Same(message, await layer.ReceiveAsync("b").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task GroupSend_LogsOneWarningNamingSkippedMembers()
    {
        var logger = new ListLogger();
        await using var layer = NewLayer(o => o.Capacity = 1, logger);
        foreach (var member in new[] { "full.a", "full.b", "free" })
        {
            await layer.GroupAddAsync("room", member);
        }

        await layer.SendAsync("full.a", Msg("test.direct"));
        await layer.SendAsync("full.b", Msg("test.direct"));
        await layer.GroupSendAsync("room", Msg("test.group"));

        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Matches(new Regex(@"^group_send to 'room' skipped 2 of 3 member\(s\) whose channels are full \(first: 'full\.[ab]'\)\.$"), warning.Message);
        Assert.Equal("test.group", (await layer.ReceiveAsync("free").AsTask().WaitAsync(Timeout)).Type);
    }

    [Fact]
    public async Task ChannelCapacityRules_ApplyPerChannel()
    {
        await using var layer = NewLayer(o =>
        {
            o.Capacity = 3;
            o.ChannelCapacity.Add(ChannelCapacityRule.Glob("small.*", 1));
        });

        await layer.SendAsync("small.x", Msg("test.a"));
        var full = await Assert.ThrowsAsync<ChannelFullException>(async () => await layer.SendAsync("small.x", Msg("test.b")));
        Assert.Equal(1, full.Capacity);
        Assert.Equal("Channel 'small.x' is full: it holds 1 message(s), its capacity.", full.Message);
        for (var i = 0; i < 3; i++)
        {
            await layer.SendAsync("large", Msg("test.c"));
        }

        Assert.Equal(3, (await Assert.ThrowsAsync<ChannelFullException>(async () => await layer.SendAsync("large", Msg("test.d")))).Capacity);
    }

    [Fact]
    public async Task NewChannel_HasTheDocumentedShape()
    {
        await using var layer = NewLayer();

        Assert.Matches(new Regex(@"^specific\.inmemory![A-Za-z]{12}\z"), await layer.NewChannelAsync());
        Assert.Matches(new Regex(@"^websocket\.send\.inmemory![A-Za-z]{12}\z"), await layer.NewChannelAsync("websocket.send"));
        var bang = await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await layer.NewChannelAsync("a!b"));
        Assert.Equal("a!b", bang.Name);
        Assert.Equal("prefix", bang.ParamName);
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await layer.NewChannelAsync(null!));
    }

    [Fact]
    public async Task Flush_ForgetsIdleChannels_ButKeepsWaitingReceivers()
    {
        await using var layer = NewLayer();
        await layer.SendAsync("full.of.messages", Msg("test.a"));
        await layer.GroupAddAsync("room", "member");
        using var cancel = new CancellationTokenSource();
        var receive = layer.ReceiveAsync("waiting", cancel.Token).AsTask();
        Assert.Equal(3, layer.ChannelCount);

        await layer.FlushAsync();

        Assert.Equal(1, layer.ChannelCount);
        await layer.SendAsync("waiting", Msg("test.after.flush"));
        Assert.Equal("test.after.flush", (await receive.WaitAsync(Timeout)).Type);
    }

    [Fact]
    public async Task Dispose_ForgetsEverythingAndIsIdempotent()
    {
        var layer = NewLayer();
        await layer.SendAsync("a", Msg("test.a"));
        await layer.GroupAddAsync("room", "b");

        await layer.DisposeAsync();
        await layer.DisposeAsync();

        Assert.Equal(0, layer.ChannelCount);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await layer.SendAsync("a", Msg("test.a")));
        _time.Advance(TimeSpan.FromMinutes(5)); // the sweeper is stopped: nothing runs, nothing throws
        Assert.Equal(0, layer.ChannelCount);
    }

    [Fact]
    public void Options_HaveDjangosDefaults()
    {
        var options = new InMemoryChannelLayerOptions();

        Assert.Equal(TimeSpan.FromSeconds(60), options.Expiry);
        Assert.Equal(TimeSpan.FromSeconds(86400), options.GroupExpiry);
        Assert.Equal(100, options.Capacity);
        Assert.Empty(options.ChannelCapacity);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        options.Validate();
    }

    [Fact]
    public void Options_OutOfRange_AreRefusedNamingTheOption()
    {
        Assert.Equal("Expiry", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryChannelLayer(new InMemoryChannelLayerOptions { Expiry = TimeSpan.Zero })).ParamName);
        Assert.Equal("GroupExpiry", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryChannelLayer(new InMemoryChannelLayerOptions { GroupExpiry = TimeSpan.FromSeconds(-1) })).ParamName);
        Assert.Equal("Capacity", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryChannelLayer(new InMemoryChannelLayerOptions { Capacity = 0 })).ParamName);
        Assert.Throws<ArgumentNullException>(() => new InMemoryChannelLayer(new InMemoryChannelLayerOptions { TimeProvider = null! }));
        Assert.Throws<ArgumentNullException>(() => new InMemoryChannelLayer(null!));
    }

    [Fact]
    public async Task DefaultConstructor_MakesAWorkingLayer()
    {
        await using var layer = new InMemoryChannelLayer();

        Assert.Equal(ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush, layer.Extensions);
        Assert.Equal(100, layer.Options.Capacity);
        await layer.SendAsync("x", Msg("test.x"));
        Assert.Equal("test.x", (await layer.ReceiveAsync("x").AsTask().WaitAsync(Timeout)).Type);
    }

    private sealed class ListLogger : ILogger<InMemoryChannelLayer>
    {
        private readonly Lock _lock = new();
        private readonly List<(LogLevel Level, string Message)> _entries = [];

        public IReadOnlyList<(LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_lock)
                {
                    return [.. _entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lock)
            {
                _entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
