using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The Django room server: <see cref="DjangoChatProject"/> written into a temp directory and served by
/// <c>/usr/bin/python3 -m daphne -b 127.0.0.1 -p &lt;free port&gt; chatsite.asgi:application</c> (Debian's
/// python3-daphne, python3-django-channels, python3-channels-redis), as the interop tests run their Django chat.
/// Disposing kills it and deletes the directory.
/// </summary>
internal sealed class DaphneServer : IRoomServer
{
    /// <summary>Debian's interpreter, which has the python3-* packages (a pyenv or venv python on PATH would not).</summary>
    public const string Interpreter = "/usr/bin/python3";

    private const string InstallHint = "apt-get install -y python3-daphne python3-channels-redis (./build.sh test installs them)";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _directory;
    private readonly Queue<string> _output = new();

    private DaphneServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public BroadcastFramework Framework => BroadcastFramework.Django;

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public TimeSpan CpuTime => ProcessCpu.Of(_process);

    /// <summary>The versions of Python, daphne, channels, channels_redis and Django, or why they cannot run
    /// (then the Django cases are reported as not run).</summary>
    public static async Task<(string? Versions, string? Missing)> ProbeAsync()
    {
        if (!File.Exists(Interpreter))
        {
            return (null, $"{Interpreter} does not exist ({InstallHint})");
        }

        var info = StartInfo(Directory.GetCurrentDirectory(), "-c",
            "import sys, daphne, channels, channels_redis, django; " +
            "print(f'Python {sys.version.split()[0]}, daphne {daphne.__version__}, channels {channels.__version__}, channels_redis {channels_redis.__version__}, Django {django.get_version()}')");
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{Interpreter} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? ((await stdout).Trim(), null)
            : (null, $"{(await stderr).Trim().Split('\n')[^1]} ({InstallHint})");
    }

    public static async Task<DaphneServer> StartAsync(int redisPort)
    {
        var directory = Directory.CreateTempSubdirectory("channels-net-bench-django-").FullName;
        DjangoChatProject.WriteTo(directory, redisPort);
        var port = Redis.RedisServerProcess.FreePort();
        var info = StartInfo(directory, "-m", "daphne", "-b", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "chatsite.asgi:application");
        info.Environment["PYTHONPATH"] = directory;
        info.Environment["DJANGO_SETTINGS_MODULE"] = "chatsite.settings";
        var process = Process.Start(info);
        if (process is null)
        {
            Directory.Delete(directory, recursive: true);
            throw new InvalidOperationException("daphne did not start.");
        }

        var server = new DaphneServer(process, directory, port);
        try
        {
            await server.WaitListeningAsync(port);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public Task<ServerStats?> TryStatsAsync() => Task.FromResult<ServerStats?>(null);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true); // our own child, by its handle
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static ProcessStartInfo StartInfo(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var name in new[] { "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private async Task WaitListeningAsync(int port)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(StartTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"daphne exited with code {_process.ExitCode} before listening: {Output}");
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"daphne did not listen on 127.0.0.1:{port} within {StartTimeout.TotalSeconds} s: {Output}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(1));
                return;
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>daphne's last lines of output, for error messages.</summary>
    private string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(" | ", _output);
            }
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > 20)
            {
                _output.Dequeue();
            }
        }
    }
}
