using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Channels.Net.Layers;

namespace Channels.Net.Interop.Tests.Infrastructure;

/// <summary>
/// The real Python channels_redis as a peer: <c>/usr/bin/python3 python/peer.py</c>, driven by JSON
/// lines. One process hosts any number of channels_redis <c>RedisChannelLayer</c>s
/// (<see cref="OpenLayerAsync"/>); every command is bounded by a timeout, and a Python exception
/// comes back as <see cref="PythonPeerException"/> (a full channel as <see cref="PeerSendResult.ChannelFull"/>).
/// </summary>
/// <remarks>
/// When /usr/bin/python3 or channels_redis is missing, <see cref="StartAsync"/> throws with the
/// package to install: the interop tests fail, they never pass by skipping.
/// </remarks>
public sealed class PythonPeer : IAsyncDisposable
{
    /// <summary>Debian's interpreter, which sees the python3-channels-redis package (a pyenv python3 on PATH would not).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>What to install when the peer cannot start.</summary>
    public const string InstallHint =
        "apt-get install -y python3 python3-channels-redis python3-msgpack python3-cryptography python3-daphne (./build.sh test installs them)";

    /// <summary>The default bound on one command.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<JsonElement> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reader;
    private long _nextId;
    private int _nextLayer;
    private volatile bool _disposed;

    private PythonPeer(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderr)
            {
                if (_stderr.Length > 64 * 1024)
                {
                    _stderr.Remove(0, _stderr.Length - (32 * 1024));
                }

                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _reader = Task.Run(ReadAnswersAsync);
    }

    /// <summary>The versions the peer runs (python, channels, channels_redis, redis, msgpack, cryptography).</summary>
    public IReadOnlyDictionary<string, string> Versions { get; private set; } = new Dictionary<string, string>();

    /// <summary>What the peer wrote to stderr (its tail), for failure messages.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The directory of the Python files shipped with the tests (peer.py, the Django chat project).</summary>
    public static string ScriptDirectory => Path.Combine(AppContext.BaseDirectory, "python");

    /// <summary>Fails with what to install when /usr/bin/python3 is missing.</summary>
    public static void RequirePython()
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException(
                $"The interop tests run the real Python channels_redis, but {Python} does not exist. Install it: {InstallHint}.");
        }
    }

    /// <summary>A start of <see cref="Python"/> with a clean Python environment (no PYTHONPATH or PYTHONHOME leaking in).</summary>
    public static ProcessStartInfo PythonStartInfo(params string[] arguments)
    {
        RequirePython();
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = ScriptDirectory,
        };
        foreach (var name in new[] { "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        info.Environment["PYTHONUNBUFFERED"] = "1";
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>Starts the peer and waits until channels_redis is imported.</summary>
    /// <exception cref="InvalidOperationException">Python or channels_redis is missing (the message says what to install).</exception>
    public static Task<PythonPeer> StartAsync() => StartAsync([]);

    /// <summary>Starts the peer with extra interpreter options (<c>-S</c> hides the installed packages: the missing-package path).</summary>
    public static async Task<PythonPeer> StartAsync(IReadOnlyList<string> interpreterOptions)
    {
        var script = Path.Combine(ScriptDirectory, "peer.py");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"The Python peer {script} is missing from the test output (it is copied there by the build).");
        }

        var process = Process.Start(PythonStartInfo([.. interpreterOptions, "-u", script]))
            ?? throw new InvalidOperationException($"{Python} did not start.");
        var peer = new PythonPeer(process);
        try
        {
            JsonElement ready;
            try
            {
                ready = await peer._ready.Task.WaitAsync(StartTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"The Python peer did not get ready within {StartTimeout.TotalSeconds} s. stderr:{Environment.NewLine}{peer.StandardError}");
            }

            peer.Versions = ready.GetProperty("versions").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            return peer;
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens a channels_redis <c>RedisChannelLayer</c> in the peer (or, with <paramref name="pubSub"/>,
    /// a <c>RedisPubSubChannelLayer</c>: only <see cref="PythonLayerConfig.Hosts"/> and <see cref="PythonLayerConfig.Prefix"/> apply).</summary>
    public async Task<PythonLayer> OpenLayerAsync(PythonLayerConfig config, bool pubSub = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        var name = $"layer{Interlocked.Increment(ref _nextLayer)}";
        var result = await CallAsync("open_layer", new JsonObject { ["layer"] = name, ["kind"] = pubSub ? "pubsub" : "core", ["config"] = config.ToJson() }).ConfigureAwait(false);
        return new PythonLayer(this, name, result.GetProperty("client_prefix").GetString()!);
    }

    /// <summary>Round-trips a value through Python's JSON bridge alone (no Redis): checks the bridge itself.</summary>
    public async Task<object?> EchoAsync(object? value) =>
        PeerJson.FromElement(await CallAsync("echo", new JsonObject { ["value"] = PeerJson.ToNode(value) }).ConfigureAwait(false));

    /// <summary><c>msgpack.packb(value, use_bin_type=True)</c>: the bytes channels_redis writes for <paramref name="value"/>.</summary>
    public async Task<byte[]> PackbAsync(object? value) =>
        PeerJson.ToBytes(await CallAsync("packb", new JsonObject { ["value"] = PeerJson.ToNode(value) }).ConfigureAwait(false));

    /// <summary>Sends one command and waits for its answer, at most <paramref name="timeout"/> (default <see cref="CommandTimeout"/>).</summary>
    /// <exception cref="PythonPeerException">Python raised.</exception>
    /// <exception cref="TimeoutException">No answer in time.</exception>
    public async Task<JsonElement> CallAsync(string op, JsonObject? arguments = null, TimeSpan? timeout = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var id = Interlocked.Increment(ref _nextId);
        var command = arguments ?? [];
        command["id"] = id;
        command["op"] = op;
        var line = command.ToJsonString();
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var limit = timeout ?? CommandTimeout;
        try
        {
            if (_process.HasExited)
            {
                throw Exited();
            }

            using (var cts = new CancellationTokenSource(limit))
            {
                await _writeLock.WaitAsync(cts.Token).ConfigureAwait(false);
                try
                {
                    await _process.StandardInput.WriteLineAsync(line.AsMemory(), cts.Token).ConfigureAwait(false);
                    await _process.StandardInput.FlushAsync(cts.Token).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
            }

            JsonElement reply;
            try
            {
                reply = await answer.Task.WaitAsync(limit).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The Python peer did not answer '{op}' within {limit.TotalSeconds} s. stderr:{Environment.NewLine}{StandardError}");
            }

            if (reply.GetProperty("ok").GetBoolean())
            {
                return reply.GetProperty("result");
            }

            var error = reply.GetProperty("error");
            throw new PythonPeerException(
                op,
                error.GetProperty("type").GetString()!,
                error.GetProperty("name").GetString()!,
                error.GetProperty("message").GetString()!,
                error.GetProperty("traceback").GetString()!,
                error.GetProperty("channel_full").GetBoolean());
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Closes stdin (the peer closes its layers and exits), and kills it if it has not exited within a few seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                await _process.WaitForExitAsync().WaitAsync(ExitTimeout).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(ExitTimeout).ConfigureAwait(false);
            }

            await _reader.WaitAsync(ExitTimeout).ConfigureAwait(false);
            _process.Dispose();
            _writeLock.Dispose();
        }
    }

    private async Task ReadAnswersAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                JsonElement answer;
                try
                {
                    answer = JsonDocument.Parse(line).RootElement;
                }
                catch (JsonException)
                {
                    continue; // not ours (a stray print); the command it belongs to times out with stderr
                }

                if (answer.TryGetProperty("ready", out _))
                {
                    _ready.TrySetResult(answer);
                }
                else if (answer.TryGetProperty("fatal", out var fatal))
                {
                    _ready.TrySetException(new InvalidOperationException(
                        $"{Python} cannot import channels_redis or a dependency ({fatal.GetString()}). Install them: {InstallHint}."));
                }
                else if (answer.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && _pending.TryGetValue(id.GetInt64(), out var pending))
                {
                    pending.TrySetResult(answer);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }

        // The peer is gone: fail whatever still waits, with its stderr.
        try
        {
            await _process.WaitForExitAsync().WaitAsync(ExitTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        var gone = Exited();
        _ready.TrySetException(gone);
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(gone);
        }
    }

    private InvalidOperationException Exited()
    {
        var code = _process.HasExited ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
        return new InvalidOperationException($"The Python peer exited (code {code}). stderr:{Environment.NewLine}{StandardError}");
    }
}

/// <summary>A Python exception raised by a peer command.</summary>
public sealed class PythonPeerException(string op, string pythonType, string name, string pythonMessage, string traceback, bool channelFull)
    : Exception($"Python raised {pythonType}({pythonMessage}) in '{op}'.{Environment.NewLine}{traceback}")
{
    /// <summary>The full name of the exception class, e.g. <c>cryptography.fernet.InvalidToken</c>.</summary>
    public string PythonType { get; } = pythonType;

    /// <summary>The class name alone, e.g. <c>InvalidToken</c>.</summary>
    public string Name { get; } = name;

    public string PythonMessage { get; } = pythonMessage;

    public string Traceback { get; } = traceback;

    /// <summary>True for <c>channels.exceptions.ChannelFull</c>.</summary>
    public bool IsChannelFull { get; } = channelFull;
}

/// <summary>What a send did.</summary>
public enum PeerSendResult
{
    /// <summary>The message is in Redis.</summary>
    Sent,

    /// <summary>The layer refused it: Python's <c>ChannelFull</c> / .NET's <see cref="ChannelFullException"/>.</summary>
    ChannelFull,
}

/// <summary>The arguments of channels_redis's <c>RedisChannelLayer(...)</c>; null means its default.</summary>
public sealed record PythonLayerConfig
{
    public IReadOnlyList<string> Hosts { get; init; } = [];

    public string? Prefix { get; init; }

    public int? Capacity { get; init; }

    public int? Expiry { get; init; }

    public int? GroupExpiry { get; init; }

    public IReadOnlyList<string>? SymmetricEncryptionKeys { get; init; }

    public JsonObject ToJson()
    {
        var config = new JsonObject { ["hosts"] = new JsonArray([.. Hosts.Select(h => JsonValue.Create(h))]) };
        if (Prefix is not null)
        {
            config["prefix"] = Prefix;
        }

        if (Capacity is { } capacity)
        {
            config["capacity"] = capacity;
        }

        if (Expiry is { } expiry)
        {
            config["expiry"] = expiry;
        }

        if (GroupExpiry is { } groupExpiry)
        {
            config["group_expiry"] = groupExpiry;
        }

        if (SymmetricEncryptionKeys is { } keys)
        {
            config["symmetric_encryption_keys"] = new JsonArray([.. keys.Select(k => JsonValue.Create(k))]);
        }

        return config;
    }
}

/// <summary>One channels_redis <c>RedisChannelLayer</c> living in a <see cref="PythonPeer"/>.</summary>
public sealed class PythonLayer : IAsyncDisposable
{
    private readonly PythonPeer _peer;
    private bool _closed;

    internal PythonLayer(PythonPeer peer, string name, string clientPrefix)
    {
        _peer = peer;
        Name = name;
        ClientPrefix = clientPrefix;
    }

    public string Name { get; }

    /// <summary>The layer's <c>client_prefix</c> (the part of its process-local channel names before <c>!</c>); empty for a pub/sub layer.</summary>
    public string ClientPrefix { get; }

    /// <summary><c>await layer.new_channel(prefix)</c>; with a null <paramref name="prefix"/>, <c>new_channel()</c> (the layer's default, as consumers call it).</summary>
    public async Task<string> NewChannelAsync(string? prefix = "specific") =>
        (await Call("new_channel", prefix is null ? [] : new JsonObject { ["prefix"] = prefix }).ConfigureAwait(false)).GetString()!;

    /// <summary><c>await layer.send(channel, message)</c>; <c>ChannelFull</c> is <see cref="PeerSendResult.ChannelFull"/>, any other exception throws.</summary>
    public async Task<PeerSendResult> SendAsync(string channel, MessageMap message)
    {
        try
        {
            await Call("send", new JsonObject { ["channel"] = channel, ["message"] = PeerJson.ToNode(message) }).ConfigureAwait(false);
            return PeerSendResult.Sent;
        }
        catch (PythonPeerException ex) when (ex.IsChannelFull)
        {
            Assert.Equal("channels.exceptions.ChannelFull", ex.PythonType);
            return PeerSendResult.ChannelFull;
        }
    }

    /// <summary><c>await layer.receive(channel)</c> bounded by <paramref name="timeout"/> (Python's <c>asyncio.wait_for</c>); null when nothing came.</summary>
    public async Task<ChannelMessage?> TryReceiveAsync(string channel, TimeSpan timeout)
    {
        var result = await Call(
            "receive",
            new JsonObject { ["channel"] = channel, ["timeout"] = timeout.TotalSeconds },
            timeout + PythonPeer.CommandTimeout).ConfigureAwait(false);
        return result.TryGetProperty("timeout", out _) ? null : ChannelMessage.FromMap(PeerJson.ToMap(result.GetProperty("message")));
    }

    public async Task<ChannelMessage> ReceiveAsync(string channel, TimeSpan timeout) =>
        await TryReceiveAsync(channel, timeout).ConfigureAwait(false)
        ?? throw new TimeoutException($"Python received nothing on '{channel}' within {timeout.TotalSeconds} s.");

    public Task GroupAddAsync(string group, string channel) => Call("group_add", new JsonObject { ["group"] = group, ["channel"] = channel });

    /// <summary>Pub/sub layers: starts the channel's receiving task, whose first <c>receive()</c> subscribes the channel
    /// (Redis may confirm it a moment after this returns).</summary>
    public Task ListenAsync(string channel) => Call("listen", new JsonObject { ["channel"] = channel });

    public Task GroupDiscardAsync(string group, string channel) => Call("group_discard", new JsonObject { ["group"] = group, ["channel"] = channel });

    public Task GroupSendAsync(string group, MessageMap message) => Call("group_send", new JsonObject { ["group"] = group, ["message"] = PeerJson.ToNode(message) });

    public Task FlushAsync() => Call("flush");

    /// <summary><c>layer.serialize(message)</c> (with <c>__asgi_channel__</c> added as send / group_send add it): the member channels_redis stores.</summary>
    public async Task<byte[]> SerializeAsync(MessageMap message, object? asgiChannel = null)
    {
        var arguments = new JsonObject { ["message"] = PeerJson.ToNode(message) };
        if (asgiChannel is not null)
        {
            arguments["asgi_channel"] = PeerJson.ToNode(asgiChannel is not string && asgiChannel is IEnumerable<string> names ? MessageList.Create(names) : asgiChannel);
        }

        return PeerJson.ToBytes(await Call("serialize", arguments).ConfigureAwait(false));
    }

    /// <summary><c>layer.deserialize(member)</c>: the raw dict, <c>__asgi_channel__</c> included.</summary>
    public async Task<MessageMap> DeserializeAsync(byte[] member) =>
        PeerJson.ToMap(await Call("deserialize", new JsonObject { ["member"] = PeerJson.ToNode(member) }).ConfigureAwait(false));

    /// <summary><c>layer.crypter.decrypt(token, expiry + 10)</c>.</summary>
    public async Task<byte[]> DecryptAsync(byte[] token) =>
        PeerJson.ToBytes(await Call("decrypt", new JsonObject { ["token"] = PeerJson.ToNode(token) }).ConfigureAwait(false));

    /// <summary>The fingerprints of the layer's keys as Channels.Net logs them, computed in Python.</summary>
    public async Task<string[]> FingerprintsAsync() =>
        [.. (await Call("fingerprints").ConfigureAwait(false)).EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>Closes the layer's connections (and flushes its prefix when <paramref name="flush"/>).</summary>
    public async Task CloseAsync(bool flush = true)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        await Call("close_layer", new JsonObject { ["flush"] = flush }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    private Task<JsonElement> Call(string op, JsonObject? arguments = null, TimeSpan? timeout = null)
    {
        arguments ??= [];
        arguments["layer"] = Name;
        return _peer.CallAsync(op, arguments, timeout);
    }
}
