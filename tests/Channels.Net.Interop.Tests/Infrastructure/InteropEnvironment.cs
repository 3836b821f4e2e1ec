using Channels.Net.Layers;
using Channels.Net.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Interop.Tests.Infrastructure;

/// <summary>Which process sends and which receives.</summary>
public enum Direction
{
    /// <summary>Channels.Net sends, channels_redis receives.</summary>
    DotNetToPython,

    /// <summary>channels_redis sends, Channels.Net receives.</summary>
    PythonToDotNet,
}

/// <summary>How the two layers encrypt.</summary>
public enum Encryption
{
    /// <summary>No <c>symmetric_encryption_keys</c> on either side.</summary>
    Plain,

    /// <summary>The same one-key list on both sides.</summary>
    Encrypted,

    /// <summary>A rotation in progress: the sender has <c>["new", "old"]</c> (encrypts with new), the receiver <c>["old", "new"]</c> (encrypts with old): each reads the other.</summary>
    Rotated,
}

/// <summary>
/// What every interop test shares: one real redis-server, one Python peer process (hosting a
/// channels_redis layer per test), and a raw StackExchange.Redis connection to inspect keys.
/// Each test uses its own key prefix, so tests never see each other's keys.
/// </summary>
public sealed class InteropEnvironment : IAsyncLifetime
{
    /// <summary>The bound on every wait for a message.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private ConnectionMultiplexer? _inspector;
    private PythonPeer? _peer;
    private bool _disposed;

    public RedisServer Redis { get; } = new();

    public PythonPeer Peer => _peer ?? throw new InvalidOperationException("The environment is not started.");

    /// <summary>A plain connection for reading what the layers wrote.</summary>
    public IDatabase Inspect => (_inspector ?? throw new InvalidOperationException("The environment is not started.")).GetDatabase();

    /// <summary>The same, on database <paramref name="db"/>.</summary>
    public IDatabase InspectDatabase(int db) => (_inspector ?? throw new InvalidOperationException("The environment is not started.")).GetDatabase(db);

    public IServer InspectServer => _inspector!.GetServer(_inspector.GetEndPoints()[0]);

    public async Task InitializeAsync()
    {
        try
        {
            PythonPeer.RequirePython(); // fail fast, before anything is started
            var peerStart = PythonPeer.StartAsync(); // Python's imports are slow: overlap them with redis-server's start
            try
            {
                await Redis.InitializeAsync();
                _inspector = await Redis.ConnectAsync();
            }
            catch
            {
                try
                {
                    _peer = await peerStart; // to stop it
                }
                catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
                {
                }

                throw;
            }

            _peer = await peerStart;
        }
        catch
        {
            await DisposeAsync(); // never leave a process behind a failed start
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_peer is not null)
            {
                await _peer.DisposeAsync();
            }
        }
        finally
        {
            try
            {
                if (_inspector is not null)
                {
                    await _inspector.CloseAsync();
                    _inspector.Dispose();
                }
            }
            finally
            {
                await Redis.DisposeAsync();
            }
        }
    }

    /// <summary>A fresh key prefix. All have the same length, so <c>FLUSH</c>'s <c>{prefix}*</c> never reaches another test's keys.</summary>
    public static string NewPrefix() => "ix" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The sender's and the receiver's <c>symmetric_encryption_keys</c> for <paramref name="encryption"/>.</summary>
    public static (string[]? Sender, string[]? Receiver) KeysFor(Encryption encryption) => encryption switch
    {
        Encryption.Plain => (null, null),
        Encryption.Encrypted => (["interop secret — clé 🔑"], ["interop secret — clé 🔑"]), // not ASCII: both hash its UTF-8 bytes
        Encryption.Rotated => (["new", "old"], ["old", "new"]),
        _ => throw new ArgumentOutOfRangeException(nameof(encryption)),
    };

    /// <summary>A Channels.Net <see cref="RedisChannelLayer"/> on the test Redis.</summary>
    public DotNetSide CreateDotNet(string prefix, IReadOnlyList<string>? keys = null, int? capacity = null)
    {
        var options = new RedisChannelLayerOptions
        {
            Prefix = prefix,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
        };
        options.Hosts.Add(RedisHost.FromAddress(Redis.Url));
        if (capacity is { } c)
        {
            options.Capacity = c;
        }

        foreach (var key in keys ?? [])
        {
            options.SymmetricEncryptionKeys.Add(key);
        }

        var logs = new RecordingLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        return new DotNetSide(new RedisChannelLayer(options, factory), factory, logs);
    }

    /// <summary>A channels_redis <c>RedisChannelLayer</c> in the Python peer, on the test Redis.</summary>
    public async Task<PythonSide> CreatePythonAsync(string prefix, IReadOnlyList<string>? keys = null, int? capacity = null) =>
        new(await Peer.OpenLayerAsync(new PythonLayerConfig
        {
            Hosts = [Redis.Url],
            Prefix = prefix,
            Capacity = capacity,
            SymmetricEncryptionKeys = keys,
        }));

    /// <summary>A sender and a receiver on one prefix, one in each process, keyed for <paramref name="encryption"/>.</summary>
    public async Task<LayerPair> CreatePairAsync(Direction direction, Encryption encryption, int? senderCapacity = null)
    {
        var prefix = NewPrefix();
        var (senderKeys, receiverKeys) = KeysFor(encryption);
        var dotNet = CreateDotNet(prefix, direction == Direction.DotNetToPython ? senderKeys : receiverKeys, direction == Direction.DotNetToPython ? senderCapacity : null);
        try
        {
            var python = await CreatePythonAsync(prefix, direction == Direction.PythonToDotNet ? senderKeys : receiverKeys, direction == Direction.PythonToDotNet ? senderCapacity : null);
            return new LayerPair(prefix, dotNet, python, direction);
        }
        catch
        {
            await dotNet.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every key under <paramref name="prefix"/>, sorted.</summary>
    public string[] KeysUnder(string prefix) =>
        [.. InspectServer.Keys(pattern: prefix + "*").Select(k => (string)k!).Order(StringComparer.Ordinal)];
}

/// <summary>The two layers of one test, named by role.</summary>
public sealed class LayerPair(string prefix, DotNetSide dotNet, PythonSide python, Direction direction) : IAsyncDisposable
{
    public string Prefix { get; } = prefix;

    public DotNetSide DotNet { get; } = dotNet;

    public PythonSide Python { get; } = python;

    public ILayerSide Sender => direction == Direction.DotNetToPython ? DotNet : Python;

    public ILayerSide Receiver => direction == Direction.DotNetToPython ? Python : DotNet;

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

/// <summary>One channel layer in one of the two processes, behind the operations the tests use.</summary>
public interface ILayerSide : IAsyncDisposable
{
    /// <summary>".NET" or "Python", for messages.</summary>
    string Process { get; }

    string ClientPrefix { get; }

    Task<string> NewChannelAsync();

    Task<PeerSendResult> SendAsync(string channel, MessageMap message);

    /// <summary>The next message on <paramref name="channel"/>, or null when none came within <paramref name="timeout"/>.</summary>
    Task<ChannelMessage?> TryReceiveAsync(string channel, TimeSpan timeout);

    Task GroupAddAsync(string group, string channel);

    Task GroupDiscardAsync(string group, string channel);

    Task GroupSendAsync(string group, MessageMap message);
}

public static class LayerSideExtensions
{
    /// <summary>The next message on <paramref name="channel"/> within <see cref="InteropEnvironment.Timeout"/>.</summary>
    public static async Task<ChannelMessage> ReceiveAsync(this ILayerSide side, string channel) =>
        await side.TryReceiveAsync(channel, InteropEnvironment.Timeout)
        ?? throw new TimeoutException($"{side.Process} received nothing on '{channel}' within {InteropEnvironment.Timeout.TotalSeconds} s.");

    /// <summary>Sends and requires that the message went in.</summary>
    public static async Task SendOkAsync(this ILayerSide side, string channel, MessageMap message) =>
        Assert.Equal(PeerSendResult.Sent, await side.SendAsync(channel, message));
}

/// <summary>Channels.Net's <see cref="RedisChannelLayer"/>, with what it logged.</summary>
public sealed class DotNetSide(RedisChannelLayer layer, ILoggerFactory loggerFactory, RecordingLoggerProvider logs) : ILayerSide
{
    public RedisChannelLayer Layer { get; } = layer;

    public RecordingLoggerProvider Logs { get; } = logs;

    public string Process => ".NET";

    public string ClientPrefix => Layer.ClientPrefix;

    public async Task<string> NewChannelAsync() => await Layer.NewChannelAsync();

    public async Task<PeerSendResult> SendAsync(string channel, MessageMap message)
    {
        try
        {
            await Layer.SendAsync(channel, ChannelMessage.FromMap(message));
            return PeerSendResult.Sent;
        }
        catch (ChannelFullException ex)
        {
            Assert.Equal(channel, ex.Channel);
            return PeerSendResult.ChannelFull;
        }
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

/// <summary>channels_redis's <c>RedisChannelLayer</c> in the Python peer.</summary>
public sealed class PythonSide(PythonLayer layer) : ILayerSide
{
    public PythonLayer Layer { get; } = layer;

    public string Process => "Python";

    public string ClientPrefix => Layer.ClientPrefix;

    public Task<string> NewChannelAsync() => Layer.NewChannelAsync();

    public Task<PeerSendResult> SendAsync(string channel, MessageMap message) => Layer.SendAsync(channel, message);

    public Task<ChannelMessage?> TryReceiveAsync(string channel, TimeSpan timeout) => Layer.TryReceiveAsync(channel, timeout);

    public Task GroupAddAsync(string group, string channel) => Layer.GroupAddAsync(group, channel);

    public Task GroupDiscardAsync(string group, string channel) => Layer.GroupDiscardAsync(group, channel);

    public Task GroupSendAsync(string group, MessageMap message) => Layer.GroupSendAsync(group, message);

    public ValueTask DisposeAsync() => Layer.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class InteropCollection : ICollectionFixture<InteropEnvironment>
{
    /// <summary>Every interop test shares one redis-server and one Python peer, and runs one at a time.</summary>
    public const string Name = "Interop";
}

/// <summary>Messages for the tests.</summary>
public static class Messages
{
    /// <summary>A message of <paramref name="type"/> with <paramref name="fields"/> in order.</summary>
    public static MessageMap Of(string type, params (string Key, object? Value)[] fields) =>
        MessageMap.Create([new("type", type), .. fields.Select(f => new KeyValuePair<string, object?>(f.Key, f.Value))]);

    /// <summary>The theory rows: each direction with each encryption.</summary>
    public static TheoryData<Direction, Encryption> Matrix()
    {
        var data = new TheoryData<Direction, Encryption>();
        foreach (var direction in Enum.GetValues<Direction>())
        {
            foreach (var encryption in Enum.GetValues<Encryption>())
            {
                data.Add(direction, encryption);
            }
        }

        return data;
    }
}
