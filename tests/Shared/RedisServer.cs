using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Channels.Net.Tests.Shared;

/// <summary>
/// A real redis-server on a free loopback port, for the Redis and interop test projects (linked into both).
/// Fails loudly when redis-server is not installed (CI installs it from Debian's packages).
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;
    private string? _directory;

    public int Port { get; private set; }

    /// <summary>More redis-server arguments (for example <c>--rename-command BZMPOP ""</c> to stand for an older server).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public string Url => $"redis://127.0.0.1:{Port}/0";

    public async Task InitializeAsync()
    {
        await StartAsync(FreePort()).ConfigureAwait(false);
    }

    /// <summary>Starts the server on <paramref name="port"/> (used again after <see cref="StopAsync"/> to simulate a restart).</summary>
    public async Task StartAsync(int port)
    {
        var executable = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: run 'apt-get install -y redis-server' (./build.sh test does it).");
        Port = port;
        _directory ??= Directory.CreateTempSubdirectory("channels-redis-").FullName;
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no" }.Concat(ExtraArguments))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        try
        {
            while (true)
            {
                try
                {
                    using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=true,connectTimeout=500").ConfigureAwait(false);
                    await probe.GetDatabase().PingAsync().ConfigureAwait(false);
                    return;
                }
                catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !_process.HasExited)
                {
                    await Task.Delay(50).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            await StopAsync().ConfigureAwait(false); // never leave a server behind a failed start
            throw;
        }
    }

    /// <summary>Kills the server (a crash, as far as clients can tell).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process?.Dispose();
        _process = null;
    }

    public async Task DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>A connection for inspecting keys in tests.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync(bool allowAdmin = false) =>
        ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port}" + (allowAdmin ? ",allowAdmin=true" : ""));

    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
