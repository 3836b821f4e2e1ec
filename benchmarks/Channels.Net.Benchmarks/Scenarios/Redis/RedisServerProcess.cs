using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// A redis-server the suite starts itself on a free loopback port, without persistence
/// (<c>--save "" --appendonly no</c>), and a side connection that reads its command statistics.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private static readonly string[] Executables = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

    private readonly Process _process;
    private readonly string _directory;
    private readonly ConnectionMultiplexer _stats;

    private RedisServerProcess(Process process, string directory, int port, ConnectionMultiplexer stats, string version)
    {
        _process = process;
        _directory = directory;
        Port = port;
        _stats = stats;
        Version = version;
    }

    public int Port { get; }

    /// <summary>CPU time redis-server has used so far.</summary>
    public TimeSpan CpuTime => Broadcast.ProcessCpu.Of(_process);

    /// <summary>redis_version from INFO server.</summary>
    public string Version { get; }

    /// <summary>The URL the layers use.</summary>
    public string Url => $"redis://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/0";

    public static async Task<RedisServerProcess> StartAsync()
    {
        var executable = Executables.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: apt-get install -y redis-server redis-tools.");
        var port = FreePort();
        var directory = Directory.CreateTempSubdirectory("channels-net-bench-redis-").FullName;
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in new[]
                 {
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--daemonize", "no", "--protected-mode", "no", "--dir", directory,
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var stats = await ConnectionMultiplexer.ConnectAsync(
                    $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)},abortConnect=true,connectTimeout=1000,allowAdmin=true,name=bench.stats").ConfigureAwait(false);
                var server = stats.GetServer(stats.GetEndPoints()[0]);
                var version = server.Version.ToString();
                return new RedisServerProcess(process, directory, port, stats, version);
            }
            catch (RedisConnectionException) when (Stopwatch.GetTimestamp() < deadline && !process.HasExited && attempt < 200)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
            catch
            {
                Kill(process);
                process.Dispose();
                Directory.Delete(directory, recursive: true);
                throw;
            }
        }
    }

    /// <summary>Cumulative per-command call counts (<c>INFO commandstats</c>), without the commands the harness and the client
    /// libraries issue for themselves (INFO, PING, CLIENT, CONFIG, ...).</summary>
    public async Task<CommandCounts> ReadCommandCountsAsync()
    {
        var server = _stats.GetServer(_stats.GetEndPoints()[0]);
        var raw = await server.InfoRawAsync("commandstats").ConfigureAwait(false) ?? "";
        return CommandCounts.Parse(raw);
    }

    /// <summary>Deletes every key (between scenarios).</summary>
    public Task FlushAllAsync() => _stats.GetServer(_stats.GetEndPoints()[0]).FlushAllDatabasesAsync();

    /// <summary>Sends ECHO with <paramref name="marker"/>: a census reading MONITOR stops at it.</summary>
    public Task EchoAsync(string marker) => _stats.GetDatabase().ExecuteAsync("ECHO", marker);

    public async ValueTask DisposeAsync()
    {
        await _stats.DisposeAsync().ConfigureAwait(false);
        Kill(_process);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>A free TCP port on 127.0.0.1 (also for the broadcast suite's daphne).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Redis command call counts by command name (lower case, as INFO commandstats names them).</summary>
public sealed class CommandCounts
{
    /// <summary>Commands that are the harness's or a client library's own housekeeping, not the layer's work.</summary>
    private static readonly HashSet<string> Housekeeping = new(StringComparer.Ordinal)
    {
        "info", "ping", "echo", "hello", "select", "auth", "monitor", "flushall", "flushdb", "subscribe", "unsubscribe", "psubscribe", "punsubscribe",
    };

    private static readonly string[] HousekeepingPrefixes = ["client|", "config|", "cluster|", "command|", "script|", "memory|", "latency|", "slowlog|"];

    private CommandCounts(Dictionary<string, long> calls)
    {
        Calls = calls;
    }

    /// <summary>True for INFO, PING, CLIENT ..., CONFIG ... and the like (lower-case names; subcommands as "client|setname").</summary>
    public static bool IsHousekeeping(string name) =>
        Housekeeping.Contains(name) || HousekeepingPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))
        || (name is "client" or "config" or "cluster" or "command" or "script" or "memory" or "latency" or "slowlog");

    public static CommandCounts Empty { get; } = new(new Dictionary<string, long>(StringComparer.Ordinal));

    public IReadOnlyDictionary<string, long> Calls { get; }

    public long Total => Calls.Values.Sum();

    public static CommandCounts Parse(string info)
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // cmdstat_zadd:calls=3,usec=12,usec_per_call=4.00,rejected_calls=0,failed_calls=0
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[8..colon];
            if (IsHousekeeping(name))
            {
                continue;
            }

            var fields = line[(colon + 1)..].Split(',');
            var value = fields.First(static f => f.StartsWith("calls=", StringComparison.Ordinal))[6..];
            calls[name] = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return new CommandCounts(calls);
    }

    /// <summary>What ran between <paramref name="before"/> and this snapshot.</summary>
    public CommandCounts Since(CommandCounts before)
    {
        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, calls) in Calls)
        {
            var d = calls - before.Calls.GetValueOrDefault(name);
            if (d != 0)
            {
                delta[name] = d;
            }
        }

        return new CommandCounts(delta);
    }

    public CommandCounts Plus(CommandCounts other)
    {
        var sum = new Dictionary<string, long>(Calls, StringComparer.Ordinal);
        foreach (var (name, calls) in other.Calls)
        {
            sum[name] = sum.GetValueOrDefault(name) + calls;
        }

        return new CommandCounts(sum);
    }

    /// <summary>"evalsha 1.00 + bzpopmin 1.00 + ..." per <paramref name="operations"/>, largest first.</summary>
    public string Breakdown(long operations) => Calls.Count == 0
        ? "none"
        : string.Join(" + ", Calls.OrderByDescending(static c => c.Value).ThenBy(static c => c.Key, StringComparer.Ordinal)
            .Select(c => $"{c.Key} {(c.Value / (double)operations).ToString("0.00", CultureInfo.InvariantCulture)}"));
}
