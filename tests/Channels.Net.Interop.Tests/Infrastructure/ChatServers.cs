using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;

namespace Channels.Net.Interop.Tests.Infrastructure;

/// <summary>The channel layer both chat servers share: the test Redis, a prefix, and each side's encryption keys (optional).</summary>
/// <param name="DjangoStyleConfig">Configure the .NET sample as a settings.py reads (backend <c>channels_redis.core.RedisChannelLayer</c>,
/// snake_case keys) rather than with <c>Backend=Redis</c> and PascalCase keys.</param>
/// <param name="PubSub">Both use the pub/sub layer: Django <c>channels_redis.pubsub.RedisPubSubChannelLayer</c>, .NET
/// <c>Backend=RedisPubSub</c> (or the Django name with <paramref name="DjangoStyleConfig"/>). No keys then.</param>
public sealed record ChatLayer(string RedisUrl, string Prefix, IReadOnlyList<string>? DjangoKeys = null, IReadOnlyList<string>? DotNetKeys = null, bool DjangoStyleConfig = false, bool PubSub = false)
{
    /// <summary>The Django backend path (settings.py's <c>BACKEND</c>).</summary>
    public string DjangoBackend => PubSub ? "channels_redis.pubsub.RedisPubSubChannelLayer" : "channels_redis.core.RedisChannelLayer";

    /// <summary>What the .NET sample is configured with in <c>ChannelLayers:default:Backend</c>.</summary>
    public string DotNetBackend => DjangoStyleConfig ? DjangoBackend : PubSub ? "RedisPubSub" : "Redis";
}

/// <summary>A chat server the tests connect browsers-to-be to.</summary>
public interface IChatServer : IAsyncDisposable
{
    string Name { get; }

    /// <summary><c>127.0.0.1:{port}</c>.</summary>
    string Authority { get; }
}

public static class ChatServerExtensions
{
    /// <summary>Opens <c>ws/chat/{room}/</c> with the server's own origin, as its page would.</summary>
    public static async Task<ClientWebSocket> ConnectAsync(this IChatServer server, string room)
    {
        var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Origin", $"http://{server.Authority}");
        try
        {
            using var cts = new CancellationTokenSource(InteropEnvironment.Timeout);
            await ws.ConnectAsync(new Uri($"ws://{server.Authority}/ws/chat/{room}/"), cts.Token).WaitAsync(InteropEnvironment.Timeout);
            return ws;
        }
        catch
        {
            ws.Dispose();
            throw;
        }
    }

    public static async Task SendTextAsync(this WebSocket ws, string text)
    {
        using var cts = new CancellationTokenSource(InteropEnvironment.Timeout);
        await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token).WaitAsync(InteropEnvironment.Timeout);
    }

    /// <summary>The next text message within <see cref="InteropEnvironment.Timeout"/>.</summary>
    public static async Task<string> ReceiveTextAsync(this WebSocket ws)
    {
        using var cts = new CancellationTokenSource(InteropEnvironment.Timeout);
        var buffer = new byte[4096];
        using var text = new MemoryStream();
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, cts.Token).WaitAsync(InteropEnvironment.Timeout);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            text.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(text.ToArray());
            }
        }
    }

    /// <summary>Closes the handshake politely, but never waits longer than the bound.</summary>
    public static async Task CloseQuietlyAsync(this WebSocket ws)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (ws.State == WebSocketState.Open)
            {
                await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token).WaitAsync(TimeSpan.FromSeconds(3));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException)
        {
        }
        finally
        {
            ws.Dispose();
        }
    }
}

/// <summary>The tutorial's Django chat (python/chatsite) under <c>/usr/bin/python3 -m daphne</c> on a free port.</summary>
public sealed class DaphneChatServer : IChatServer
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DaphneChatServer(Process process, int port)
    {
        _process = process;
        Authority = $"127.0.0.1:{port}";
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name => "Django (daphne)";

    public string Authority { get; }

    /// <summary>What daphne printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<DaphneChatServer> StartAsync(ChatLayer layer)
    {
        var project = Path.Combine(PythonPeer.ScriptDirectory, "chatsite");
        var port = RedisServer.FreePort();
        var info = PythonPeer.PythonStartInfo("-m", "daphne", "-b", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "chatsite.asgi:application");
        info.WorkingDirectory = project;
        info.Environment["PYTHONPATH"] = project;
        info.Environment["DJANGO_SETTINGS_MODULE"] = "chatsite.settings";
        info.Environment["CHAT_REDIS_URL"] = layer.RedisUrl;
        info.Environment["CHAT_CHANNELS_PREFIX"] = layer.Prefix;
        info.Environment["CHAT_CHANNELS_BACKEND"] = layer.DjangoBackend;
        if (layer.DjangoKeys is { } keys)
        {
            info.Environment["CHAT_ENCRYPTION_KEYS"] = JsonSerializer.Serialize(keys);
        }

        var server = new DaphneChatServer(Process.Start(info) ?? throw new InvalidOperationException("daphne did not start."), port);
        try
        {
            var deadline = DateTime.UtcNow + StartTimeout;
            while (true)
            {
                if (server._process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"daphne exited with code {server._process.ExitCode} before listening (is python3-daphne installed? {PythonPeer.InstallHint}). Output:{Environment.NewLine}{server.Output}");
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"daphne did not listen on {server.Authority} within {StartTimeout.TotalSeconds} s. Output:{Environment.NewLine}{server.Output}");
                }

                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(1));
                    return server;
                }
                catch (Exception ex) when (ex is SocketException or TimeoutException)
                {
                    await Task.Delay(100);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}

/// <summary>samples/Chat (<c>Program.CreateApp</c>) with a Redis layer (core or pub/sub), on Kestrel at 127.0.0.1 on a free port.</summary>
/// <summary>The two chats on one layer, started side by side (Django's start is the slow one: ours overlaps it).</summary>
public static class ChatPair
{
    public static async Task<(DotNetChatServer DotNet, DaphneChatServer Daphne)> StartAsync(ChatLayer layer)
    {
        var daphneStart = DaphneChatServer.StartAsync(layer);
        DotNetChatServer dotNet;
        try
        {
            dotNet = await DotNetChatServer.StartAsync(layer);
        }
        catch
        {
            await (await daphneStart).DisposeAsync();
            throw;
        }

        try
        {
            return (dotNet, await daphneStart);
        }
        catch
        {
            await dotNet.DisposeAsync();
            throw;
        }
    }
}

public sealed class DotNetChatServer : IChatServer
{
    private DotNetChatServer(WebApplication app, string authority)
    {
        App = app;
        Authority = authority;
    }

    public string Name => ".NET (samples/Chat)";

    public WebApplication App { get; }

    public string Authority { get; }

    /// <summary>The sample's project directory, its content root (appsettings.json with AllowedHosts, wwwroot).</summary>
    public static string ContentRoot { get; } = typeof(DotNetChatServer).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ChatContentRoot").Value!;

    public static async Task<DotNetChatServer> StartAsync(ChatLayer layer)
    {
        var django = layer.DjangoStyleConfig;
        List<string> args =
        [
            "--urls", "http://127.0.0.1:0",
            "--contentRoot", ContentRoot,
            "--environment", "Production",
            "--Logging:LogLevel:Default=Warning",
            $"--ChannelLayers:default:Backend={layer.DotNetBackend}",
            $"--ChannelLayers:default:Config:{(django ? "hosts" : "Hosts")}:0={layer.RedisUrl}",
            $"--ChannelLayers:default:Config:{(django ? "prefix" : "Prefix")}={layer.Prefix}",
        ];
        for (var i = 0; i < (layer.DotNetKeys?.Count ?? 0); i++)
        {
            args.Add($"--ChannelLayers:default:Config:{(django ? "symmetric_encryption_keys" : "SymmetricEncryptionKeys")}:{i}={layer.DotNetKeys![i]}");
        }

        var app = Program.CreateApp([.. args]);
        try
        {
            using var cts = new CancellationTokenSource(InteropEnvironment.Timeout);
            await app.StartAsync(cts.Token).WaitAsync(InteropEnvironment.Timeout);
            return new DotNetChatServer(app, new Uri(app.Urls.Single()).Authority);
        }
        catch
        {
            await app.DisposeAsync().AsTask().WaitAsync(InteropEnvironment.Timeout);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await App.StopAsync(grace.Token).WaitAsync(InteropEnvironment.Timeout);
        }
        finally
        {
            await App.DisposeAsync().AsTask().WaitAsync(InteropEnvironment.Timeout);
        }
    }
}
