using Channels.Net.Layers;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// With several hosts, plain (worker) channels are written round-robin; a receive must find a message
/// on whichever host holds it, as channels_redis's receive does by trying each host for one blocking-pop
/// timeout in turn, rather than waiting forever on the host it happened to start with.
/// </summary>
public sealed class MultiHostReceiveTests(MultiHostReceiveTests.ThreeServers servers) : IClassFixture<MultiHostReceiveTests.ThreeServers>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_receive_finds_a_message_on_any_host(int receivesBefore)
    {
        var prefix = $"multi{Guid.NewGuid():N}";
        await using var sender = NewLayer(prefix);
        await using var receiver = NewLayer(prefix);

        // Move the receiver's round-robin start, so across the cases it starts on every host, not only
        // on the one the sender writes to.
        for (var i = 0; i < receivesBefore; i++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receiver.ReceiveAsync("empty", cancel.Token));
        }

        var channel = $"work{Guid.NewGuid():N}";
        await sender.SendAsync(channel, ChannelMessage.Create("job.run", [new("n", 7L)]));

        var received = await receiver.ReceiveAsync(channel).AsTask().WaitAsync(Wait);
        Assert.Equal("job.run", received.Type);
        Assert.Equal(7L, received.GetInt64("n"));
    }

    [Fact]
    public async Task Messages_spread_over_three_hosts_are_each_received_once()
    {
        var prefix = $"multi{Guid.NewGuid():N}";
        await using var sender = NewLayer(prefix);
        await using var receiver = NewLayer(prefix);
        var channel = $"work{Guid.NewGuid():N}";
        for (long i = 0; i < 9; i++)
        {
            await sender.SendAsync(channel, ChannelMessage.Create("job.run", [new("n", i)]));
        }

        var seen = new List<long>();
        for (var i = 0; i < 9; i++)
        {
            seen.Add((await receiver.ReceiveAsync(channel).AsTask().WaitAsync(Wait)).GetInt64("n") ?? -1);
        }

        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), seen.Order());
    }

    private RedisChannelLayer NewLayer(string prefix)
    {
        var options = new RedisChannelLayerOptions { Prefix = prefix, BlockingPopTimeout = TimeSpan.FromSeconds(1) };
        foreach (var server in servers.Servers)
        {
            options.Hosts.Add(RedisHost.FromAddress(server.Url));
        }

        return new RedisChannelLayer(options);
    }

    /// <summary>Three redis-servers for the class.</summary>
    public sealed class ThreeServers : IAsyncLifetime
    {
        /// <summary>The servers, started by <see cref="InitializeAsync"/>.</summary>
        public RedisServer[] Servers { get; } = [new(), new(), new()];

        /// <inheritdoc />
        public Task InitializeAsync() => Task.WhenAll(Servers.Select(s => s.InitializeAsync()));

        /// <inheritdoc />
        public Task DisposeAsync() => Task.WhenAll(Servers.Select(s => s.DisposeAsync()));
    }
}
