using System.Diagnostics;
using System.Globalization;
using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>A layer that knows only sentinels finds the master and works; bad Sentinel settings fail clearly.</summary>
public sealed class SentinelLayerTests(SentinelCluster cluster) : IClassFixture<SentinelCluster>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_dict_form_from_configuration_makes_a_working_layer()
    {
        var prefix = $"sentinelcfg{Guid.NewGuid():N}";
        var recorder = new RecordingLoggerProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // As environment variables: ChannelLayers__default__Config__Hosts__0__Sentinels__0=127.0.0.1:26379, ...
            ["ChannelLayers:default:Backend"] = "channels_redis.core.RedisChannelLayer",
            ["ChannelLayers:default:Config:Hosts:0:Sentinels:0"] = cluster.Sentinels[0],
            ["ChannelLayers:default:Config:Hosts:0:Sentinels:1"] = cluster.Sentinels[1],
            ["ChannelLayers:default:Config:Hosts:0:master_name"] = SentinelCluster.MasterName,
            ["ChannelLayers:default:Config:Hosts:0:Password"] = SentinelCluster.Password,
            ["ChannelLayers:default:Config:Hosts:0:SentinelPassword"] = SentinelCluster.SentinelPassword,
            ["ChannelLayers:default:Config:Prefix"] = prefix,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(recorder));
        services.AddChannels(configuration.GetSection("ChannelLayers"));
        await using var provider = services.BuildServiceProvider();
        var layer = Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());

        var host = Assert.Single(layer.Options.Hosts);
        Assert.Equal(SentinelCluster.MasterName, host.MasterName);
        Assert.Equal(cluster.Sentinels, host.Sentinels);
        Assert.Equal((SentinelCluster.Password, SentinelCluster.SentinelPassword), (host.Password, host.SentinelPassword));
        Assert.Equal($"sentinel master 'mymaster' via {cluster.Sentinels[0]}, {cluster.Sentinels[1]}", host.ToString());

        // send/receive on a plain channel, and a group send to a process-local channel.
        await layer.SendAsync("worker.sentinel", ChannelMessage.Create("plain"));
        Assert.Equal("plain", (await layer.ReceiveAsync("worker.sentinel").AsTask().WaitAsync(s_wait)).Type);
        var local = await layer.NewChannelAsync();
        await layer.GroupAddAsync("room", local);
        await layer.GroupSendAsync("room", ChannelMessage.Create("chat.message"));
        Assert.Equal("chat.message", (await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait)).Type);

        // It found the master through the sentinels, and the keys are on that master.
        var master = await cluster.MasterAsync();
        Assert.Contains(recorder.Entries, e => e.EventId.Id == 540 && e.Message.Contains($"is at {master}", StringComparison.Ordinal));
        await using var direct = await cluster.ConnectDataAsync(master.Port);
        Assert.True(await direct.GetDatabase().KeyExistsAsync($"{prefix}:group:room"));
    }

    [Fact]
    public async Task Code_first_with_one_sentinel_down_finds_the_master()
    {
        // The first sentinel listed does not answer; the second does.
        var options = new RedisChannelLayerOptions { Prefix = $"sentineldisc{Guid.NewGuid():N}", BlockingPopTimeout = TimeSpan.FromSeconds(1) };
        options.Hosts.Add(RedisHost.FromSentinels(SentinelCluster.MasterName, $"127.0.0.1:{RedisServer.FreePort()}", cluster.Sentinels[1])
            with { Password = SentinelCluster.Password, SentinelPassword = SentinelCluster.SentinelPassword });
        await using var layer = new RedisChannelLayer(options);
        var local = await layer.NewChannelAsync();
        await layer.SendAsync(local, ChannelMessage.Create("found"));
        Assert.Equal("found", (await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait)).Type);
    }

    [Fact]
    public async Task An_unknown_master_name_fails_naming_it()
    {
        var options = new RedisChannelLayerOptions { Prefix = $"sentinelbad{Guid.NewGuid():N}" };
        options.Hosts.Add(RedisHost.FromSentinels("nosuchmaster", cluster.Sentinels) with { SentinelPassword = SentinelCluster.SentinelPassword });
        await using var layer = new RedisChannelLayer(options);
        var error = await Assert.ThrowsAsync<ChannelLayerUnavailableException>(() => layer.SendAsync("worker.x", ChannelMessage.Create("x")).AsTask());
        Assert.Contains("no sentinel knows a master named 'nosuchmaster'", error.Message, StringComparison.Ordinal);
        Assert.Contains(cluster.Sentinels[0], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_reachable_sentinel_fails_fast_naming_the_sentinels()
    {
        var dead = new[] { $"127.0.0.1:{RedisServer.FreePort()}", $"127.0.0.1:{RedisServer.FreePort()}" };
        var options = new RedisChannelLayerOptions { Prefix = $"sentineldead{Guid.NewGuid():N}", ConnectTimeout = TimeSpan.FromSeconds(1) };
        options.Hosts.Add(RedisHost.FromSentinels(SentinelCluster.MasterName, dead));
        await using var layer = new RedisChannelLayer(options);

        var clock = Stopwatch.StartNew();
        var first = await Assert.ThrowsAsync<ChannelLayerUnavailableException>(() => layer.SendAsync("worker.x", ChannelMessage.Create("x")).AsTask());
        var firstTook = clock.Elapsed;
        // The failure kind StackExchange.Redis reports for a refused port varies (UnableToConnect, UnableToResolvePhysicalConnection).
        Assert.True(first.Message.Contains($"no sentinel could be reached for master '{SentinelCluster.MasterName}' (sentinels: {dead[0]}, {dead[1]}): {dead[0]}: Unable", StringComparison.Ordinal), first.Message);

        // Later operations do not wait for a connect again, nor queue for the 5 s command timeout.
        clock.Restart();
        await Assert.ThrowsAsync<ChannelLayerUnavailableException>(() => layer.SendAsync("worker.x", ChannelMessage.Create("x")).AsTask());
        await Assert.ThrowsAsync<ChannelLayerUnavailableException>(() => layer.GroupAddAsync("room", "worker.x").AsTask());
        var laterTook = clock.Elapsed;

        // Generous bounds on a loaded machine: the first is bounded by the 1 s connect timeout, not unbounded.
        Assert.True(firstTook < TimeSpan.FromSeconds(10), $"the first send took {firstTook}");
        Assert.True(laterTook < TimeSpan.FromSeconds(4), $"two later operations took {laterTook}");
    }

    [Fact]
    public async Task A_wrong_sentinel_password_fails_as_unreachable_without_showing_it()
    {
        var options = new RedisChannelLayerOptions { Prefix = $"sentinelauth{Guid.NewGuid():N}", ConnectTimeout = TimeSpan.FromSeconds(2) };
        options.Hosts.Add(RedisHost.FromSentinels(SentinelCluster.MasterName, cluster.Sentinels[0]) with { SentinelPassword = "hunter2-not-it" });
        await using var layer = new RedisChannelLayer(options);
        var error = await Assert.ThrowsAsync<ChannelLayerUnavailableException>(() => layer.SendAsync("worker.x", ChannelMessage.Create("x")).AsTask());
        Assert.Contains($"no sentinel could be reached for master 'mymaster' (sentinels: {cluster.Sentinels[0]}): {cluster.Sentinels[0]}: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sharding_over_a_sentinel_host_and_a_plain_host_works()
    {
        await using var plain = new RedisServer();
        await plain.InitializeAsync();
        var options = new RedisChannelLayerOptions { Prefix = $"sentinelmix{Guid.NewGuid():N}", BlockingPopTimeout = TimeSpan.FromSeconds(1) };
        options.Hosts.Add(cluster.Host);
        options.Hosts.Add(RedisHost.FromAddress(plain.Url));
        await using var layer = new RedisChannelLayer(options);

        var channels = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var channel = await layer.NewChannelAsync();
            channels.Add(channel);
            await layer.GroupAddAsync("mixed", channel);
        }

        await layer.GroupSendAsync("mixed", ChannelMessage.Create("to.all"));
        foreach (var channel in channels)
        {
            Assert.Equal("to.all", (await layer.ReceiveAsync(channel).AsTask().WaitAsync(s_wait)).Type);
        }

        for (var i = 0; i < 4; i++)
        {
            // Plain sends go round-robin over both hosts; receives too.
            var name = $"worker.mixed{i.ToString(CultureInfo.InvariantCulture)}";
            await layer.SendAsync(name, ChannelMessage.Create("job"));
        }

        var master = await cluster.MasterAsync();
        await using var onMaster = await cluster.ConnectDataAsync(master.Port);
        await using var onPlain = await plain.ConnectAsync();
        var keys = Enumerable.Range(0, 4).Select(i => (StackExchange.Redis.RedisKey)$"{options.Prefix}worker.mixed{i.ToString(CultureInfo.InvariantCulture)}").ToArray();
        var sentinelKeys = await onMaster.GetDatabase().KeyExistsAsync(keys);
        var plainKeys = await onPlain.GetDatabase().KeyExistsAsync(keys);
        Assert.Equal(4, sentinelKeys + plainKeys);
        Assert.True(sentinelKeys > 0 && plainKeys > 0, $"sentinel host {sentinelKeys}, plain host {plainKeys}");
    }
}
