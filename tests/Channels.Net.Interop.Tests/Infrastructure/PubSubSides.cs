using Channels.Net.Layers;
using Channels.Net.Redis;
using Channels.Net.Redis.PubSub;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Interop.Tests.Infrastructure;

/// <summary>One pub/sub layer in one of the two processes. <see cref="ILayerSide.ClientPrefix"/> is empty:
/// pub/sub channel names have no process part.</summary>
public interface IPubSubSide : ILayerSide
{
    /// <summary>Subscribes this process to <paramref name="channel"/> and returns once Redis reports the subscription.</summary>
    Task ListenAsync(string channel);
}

/// <summary>Channels.Net's <see cref="RedisPubSubChannelLayer"/>, with what it logged.</summary>
public sealed class DotNetPubSubSide(RedisPubSubChannelLayer layer, ILoggerFactory loggerFactory, RecordingLoggerProvider logs) : IPubSubSide
{
    public RedisPubSubChannelLayer Layer { get; } = layer;

    public RecordingLoggerProvider Logs { get; } = logs;

    public string Process => ".NET";

    public string ClientPrefix => "";

    public async Task<string> NewChannelAsync() => await Layer.NewChannelAsync(); // subscribed (Redis confirmed) when it returns

    public async Task ListenAsync(string channel) => await Layer.SubscribeAsync(channel);

    public async Task<PeerSendResult> SendAsync(string channel, MessageMap message)
    {
        await Layer.SendAsync(channel, ChannelMessage.FromMap(message));
        return PeerSendResult.Sent;
    }

    public async Task<ChannelMessage?> TryReceiveAsync(string channel, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await Layer.ReceiveAsync(channel, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return null;
        }
    }

    public async Task GroupAddAsync(string group, string channel) => await Layer.GroupAddAsync(group, channel);

    public async Task GroupDiscardAsync(string group, string channel) => await Layer.GroupDiscardAsync(group, channel);

    public async Task GroupSendAsync(string group, MessageMap message) => await Layer.GroupSendAsync(group, ChannelMessage.FromMap(message));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Layer.DisposeAsync().AsTask().WaitAsync(InteropEnvironment.Timeout);
        }
        finally
        {
            loggerFactory.Dispose();
        }
    }
}

/// <summary>channels_redis's <c>RedisPubSubChannelLayer</c> in the Python peer. Its receives go through the
/// peer's per-channel receiving task (a timed-out receive would otherwise unsubscribe the channel).</summary>
public sealed class PythonPubSubSide(PythonLayer layer, Func<string, Task> waitForSubscription) : IPubSubSide
{
    public PythonLayer Layer { get; } = layer;

    public string Process => "Python";

    public string ClientPrefix => "";

    /// <summary><c>new_channel()</c>, then waits until Redis reports its subscription (redis-py sends the
    /// <c>SUBSCRIBE</c> without waiting for the reply).</summary>
    public async Task<string> NewChannelAsync()
    {
        var name = await Layer.NewChannelAsync(prefix: null); // new_channel(): "specific." by default, as a consumer calls it
        await waitForSubscription(name);
        return name;
    }

    public async Task ListenAsync(string channel)
    {
        await Layer.ListenAsync(channel);
        await waitForSubscription(channel);
    }

    public Task<PeerSendResult> SendAsync(string channel, MessageMap message) => Layer.SendAsync(channel, message);

    public Task<ChannelMessage?> TryReceiveAsync(string channel, TimeSpan timeout) => Layer.TryReceiveAsync(channel, timeout);

    public Task GroupAddAsync(string group, string channel) => Layer.GroupAddAsync(group, channel);

    public Task GroupDiscardAsync(string group, string channel) => Layer.GroupDiscardAsync(group, channel);

    public Task GroupSendAsync(string group, MessageMap message) => Layer.GroupSendAsync(group, message);

    public ValueTask DisposeAsync() => Layer.DisposeAsync();
}

/// <summary>A sender and a receiver pub/sub layer on one prefix, one in each process.</summary>
public sealed class PubSubPair(string prefix, DotNetPubSubSide dotNet, PythonPubSubSide python, Direction direction) : IAsyncDisposable
{
    public string Prefix { get; } = prefix;

    public DotNetPubSubSide DotNet { get; } = dotNet;

    public PythonPubSubSide Python { get; } = python;

    public IPubSubSide Sender => direction == Direction.DotNetToPython ? DotNet : Python;

    public IPubSubSide Receiver => direction == Direction.DotNetToPython ? Python : DotNet;

    /// <summary>The Redis channel of <paramref name="group"/>, as both layers name it.</summary>
    public string GroupChannel(string group) => Prefix + "__group__" + group;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DotNet.DisposeAsync();
        }
        finally
        {
            await Python.DisposeAsync();
        }
    }
}

/// <summary>The pub/sub layers of the interop environment.</summary>
public static class PubSubEnvironment
{
    /// <summary>A Channels.Net <see cref="RedisPubSubChannelLayer"/> on <paramref name="hosts"/> (the test Redis by default).</summary>
    public static DotNetPubSubSide CreateDotNetPubSub(this InteropEnvironment env, string prefix, IReadOnlyList<string>? hosts = null)
    {
        var options = new RedisPubSubChannelLayerOptions { Prefix = prefix };
        foreach (var host in hosts ?? [env.Redis.Url])
        {
            options.Hosts.Add(RedisHost.FromAddress(host));
        }

        var logs = new RecordingLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        return new DotNetPubSubSide(new RedisPubSubChannelLayer(options, factory), factory, logs);
    }

    /// <summary>A channels_redis <c>RedisPubSubChannelLayer</c> in the Python peer on <paramref name="hosts"/> (the test Redis by default).
    /// <paramref name="subscriptionServer"/> says where a channel's subscription shows (the test Redis by default).</summary>
    public static async Task<PythonPubSubSide> CreatePythonPubSubAsync(
        this InteropEnvironment env, string prefix, IReadOnlyList<string>? hosts = null, Func<string, IServer>? subscriptionServer = null)
    {
        var layer = await env.Peer.OpenLayerAsync(new PythonLayerConfig { Hosts = hosts ?? [env.Redis.Url], Prefix = prefix }, pubSub: true);
        return new PythonPubSubSide(layer, channel => WaitForSubscribersAsync(subscriptionServer?.Invoke(channel) ?? env.InspectServer, channel, 1));
    }

    /// <summary>A sender and a receiver on one fresh prefix, one in each process.</summary>
    public static async Task<PubSubPair> CreatePubSubPairAsync(this InteropEnvironment env, Direction direction)
    {
        var prefix = InteropEnvironment.NewPrefix();
        var dotNet = env.CreateDotNetPubSub(prefix);
        try
        {
            return new PubSubPair(prefix, dotNet, await env.CreatePythonPubSubAsync(prefix), direction);
        }
        catch
        {
            await dotNet.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="server"/> reports <paramref name="expected"/> subscribers of
    /// <paramref name="redisChannel"/> (<c>PUBSUB NUMSUB</c>), failing after <see cref="InteropEnvironment.Timeout"/>.</summary>
    public static async Task WaitForSubscribersAsync(IServer server, string redisChannel, long expected)
    {
        var deadline = DateTime.UtcNow + InteropEnvironment.Timeout;
        long count;
        while ((count = await server.SubscriptionSubscriberCountAsync(RedisChannel.Literal(redisChannel))) != expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{redisChannel}' has {count} subscriber(s), not {expected}, after {InteropEnvironment.Timeout.TotalSeconds} s.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary><see cref="WaitForSubscribersAsync(IServer, string, long)"/> on the test Redis.</summary>
    public static Task WaitForSubscribersAsync(this InteropEnvironment env, string redisChannel, long expected) =>
        WaitForSubscribersAsync(env.InspectServer, redisChannel, expected);
}
