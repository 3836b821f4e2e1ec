using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>
/// A real Sentinel setup on loopback: a password-protected master, one replica, and two sentinels
/// (quorum 1, down-after 1 s and 3 s, themselves password-protected), each on a free port with its files in
/// a temporary directory. Debian's <c>redis-sentinel</c> runs the sentinels. Every process is killed
/// on dispose, after a failed start, and when the test process exits.
/// </summary>
public sealed class SentinelCluster : IAsyncLifetime
{
    public const string MasterName = "mymaster";
    public const string Password = "data-secret";
    public const string SentinelPassword = "sentinel-secret";

    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly List<Process> _processes = [];
    private readonly Dictionary<int, Process> _dataServers = [];
    private readonly Lock _gate = new();
    private string? _directory;

    /// <summary>The ports of the two data servers (the first starts as master).</summary>
    public int[] DataPorts { get; } = new int[2];

    /// <summary>The ports of the sentinels.</summary>
    public int[] SentinelPorts { get; } = new int[2];

    /// <summary>The sentinels as <c>host:port</c>, as a layer is configured with them.</summary>
    public IReadOnlyList<string> Sentinels => [.. SentinelPorts.Select(p => $"127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}")];

    /// <summary>A layer host for this cluster.</summary>
    public RedisHost Host => RedisHost.FromSentinels(MasterName, Sentinels) with { Password = Password, SentinelPassword = SentinelPassword };

    public async Task InitializeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        try
        {
            _directory = Directory.CreateTempSubdirectory("channels-sentinel-").FullName;
            DataPorts[0] = RedisServer.FreePort();
            DataPorts[1] = RedisServer.FreePort();
            SentinelPorts[0] = RedisServer.FreePort();
            SentinelPorts[1] = RedisServer.FreePort();

            StartDataServer(DataPorts[0], replicaOf: null);
            StartDataServer(DataPorts[1], replicaOf: DataPorts[0]);
            await WaitForAsync("the replica to sync", async () =>
            {
                var info = await InfoAsync(DataPorts[1], "replication").ConfigureAwait(false);
                return info.Contains("master_link_status:up", StringComparison.Ordinal);
            }).ConfigureAwait(false);

            for (var i = 0; i < SentinelPorts.Length; i++)
            {
                // Staggered: the first sentinel to see the master down asks the other for its vote before
                // that one runs its own election, so a crash never splits the vote (a split waits 2 x failover-timeout).
                StartSentinel(SentinelPorts[i], downAfterMilliseconds: 1000 + (i * 2000));
            }

            // Each sentinel knows the master and has checked its replica (needed for a failover) before tests start.
            await WaitForFailoverReadyAsync().ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Process[] processes;
        lock (_gate)
        {
            processes = [.. _processes];
            _processes.Clear();
        }

        foreach (var process in processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                process.Dispose();
            }
        }

        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>
    /// Waits until every sentinel names the master and has itself talked to the replica (a run id, no
    /// down or disconnected flag, its link to the master up): until then a sentinel answers a failover
    /// with NOGOODSLAVE.
    /// </summary>
    public async Task WaitForFailoverReadyAsync()
    {
        await WaitForAsync("the sentinels to agree on the master and check its replica", async () =>
        {
            var masters = new HashSet<EndPoint?>();
            foreach (var port in SentinelPorts)
            {
                await using var sentinel = await ConnectSentinelAsync(port).ConfigureAwait(false);
                var server = sentinel.GetServer(sentinel.GetEndPoints()[0]);
                masters.Add(await server.SentinelGetMasterAddressByNameAsync(MasterName).ConfigureAwait(false));
                if (masters.Count != 1 || masters.Single() is null)
                {
                    return false;
                }

                var replicas = await server.SentinelReplicasAsync(MasterName).ConfigureAwait(false);
                if (!replicas.Any(IsGoodReplica))
                {
                    return false;
                }
            }

            return true;
        }).ConfigureAwait(false);

        static bool IsGoodReplica(KeyValuePair<string, string>[] fields)
        {
            var map = fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            return map.GetValueOrDefault("flags") == "slave" &&
                map.GetValueOrDefault("master-link-status") == "ok" &&
                !string.IsNullOrEmpty(map.GetValueOrDefault("runid"));
        }
    }

    /// <summary>The master as the first sentinel sees it.</summary>
    public async Task<IPEndPoint> MasterAsync()
    {
        await using var sentinel = await ConnectSentinelAsync(SentinelPorts[0]).ConfigureAwait(false);
        return (IPEndPoint)(await sentinel.GetServer(sentinel.GetEndPoints()[0]).SentinelGetMasterAddressByNameAsync(MasterName).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The sentinel knows no master."));
    }

    /// <summary>
    /// <c>SENTINEL FAILOVER mymaster</c> once the replica has every write (<c>WAIT 1</c>); returns when
    /// the sentinel names the replica as master and it answers as one. Returns (old, new) master ports.
    /// </summary>
    public async Task<(int From, int To)> FailoverAsync()
    {
        await WaitForFailoverReadyAsync().ConfigureAwait(false);
        var from = (await MasterAsync().ConfigureAwait(false)).Port;
        var to = DataPorts.Single(p => p != from);
        await using (var master = await ConnectDataAsync(from).ConfigureAwait(false))
        {
            var acknowledged = (long)await master.GetDatabase().ExecuteAsync("WAIT", 1, 10_000).ConfigureAwait(false);
            Assert.Equal(1, acknowledged);
        }

        await using (var sentinel = await ConnectSentinelAsync(SentinelPorts[0]).ConfigureAwait(false))
        {
            await sentinel.GetServer(sentinel.GetEndPoints()[0]).SentinelFailoverAsync(MasterName).ConfigureAwait(false);
        }

        await WaitForAsync($"the sentinel to name 127.0.0.1:{to} as master", async () =>
        {
            if ((await MasterAsync().ConfigureAwait(false)).Port != to)
            {
                return false;
            }

            var info = await InfoAsync(to, "replication").ConfigureAwait(false);
            return info.Contains("role:master", StringComparison.Ordinal);
        }).ConfigureAwait(false);
        return (from, to);
    }

    /// <summary>Waits until each sentinel knows the other (their hello messages go every 2 s): needed to elect a failover leader.</summary>
    public Task WaitForSentinelsToMeetAsync() => WaitForAsync("the sentinels to discover each other", async () =>
    {
        foreach (var port in SentinelPorts)
        {
            await using var sentinel = await ConnectSentinelAsync(port).ConfigureAwait(false);
            if ((await sentinel.GetServer(sentinel.GetEndPoints()[0]).SentinelSentinelsAsync(MasterName).ConfigureAwait(false)).Length != SentinelPorts.Length - 1)
            {
                return false;
            }
        }

        return true;
    });

    /// <summary>
    /// Kills the master (a crash, as far as anyone can tell) once the replica has every write, and
    /// waits for the sentinels to promote the replica. Returns (old, new) master ports.
    /// </summary>
    public async Task<(int From, int To)> KillMasterAsync()
    {
        await WaitForFailoverReadyAsync().ConfigureAwait(false);
        var from = (await MasterAsync().ConfigureAwait(false)).Port;
        var to = DataPorts.Single(p => p != from);
        await using (var master = await ConnectDataAsync(from).ConfigureAwait(false))
        {
            var acknowledged = (long)await master.GetDatabase().ExecuteAsync("WAIT", 1, 10_000).ConfigureAwait(false);
            Assert.Equal(1, acknowledged);
        }

        Process process;
        lock (_gate)
        {
            process = _dataServers[from];
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync().ConfigureAwait(false);
        await WaitForAsync($"the sentinels to promote 127.0.0.1:{to}", async () => (await MasterAsync().ConfigureAwait(false)).Port == to, exitedIsFailure: false).ConfigureAwait(false);
        return (from, to);
    }

    /// <summary>A direct connection to one data server (to inspect keys).</summary>
    public Task<ConnectionMultiplexer> ConnectDataAsync(int port) =>
        ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)},password={Password},allowAdmin=true,connectTimeout=2000");

    /// <summary>The tail of every process's log, for a failure message.</summary>
    public string Logs()
    {
        if (_directory is null)
        {
            return "";
        }

        return string.Join(
            "\n",
            Directory.GetFiles(_directory, "*.log").Order(StringComparer.Ordinal).Select(f => $"--- {Path.GetFileName(f)}\n{string.Join('\n', File.ReadLines(f).TakeLast(30))}"));
    }

    private static Task<ConnectionMultiplexer> ConnectSentinelAsync(int port) =>
        ConnectionMultiplexer.SentinelConnectAsync($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)},password={SentinelPassword},connectTimeout=2000");

    private async Task<string> InfoAsync(int port, string section)
    {
        await using var connection = await ConnectDataAsync(port).ConfigureAwait(false);
        return (string)(await connection.GetDatabase().ExecuteAsync("INFO", section).ConfigureAwait(false))!;
    }

    private void StartDataServer(int port, int? replicaOf)
    {
        var name = $"redis-{port.ToString(CultureInfo.InvariantCulture)}";
        List<string> args =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--protected-mode", "no",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", _directory!, "--dbfilename", name + ".rdb", "--logfile", Path.Combine(_directory!, name + ".log"),
            "--requirepass", Password, "--masterauth", Password,
        ];
        if (replicaOf is { } master)
        {
            args.AddRange(["--replicaof", "127.0.0.1", master.ToString(CultureInfo.InvariantCulture)]);
        }

        var process = Start(Executable("redis-server"), args);
        lock (_gate)
        {
            _dataServers[port] = process;
        }
    }

    private void StartSentinel(int port, int downAfterMilliseconds)
    {
        // A sentinel rewrites its configuration file, so each has its own.
        var name = $"sentinel-{port.ToString(CultureInfo.InvariantCulture)}";
        var config = Path.Combine(_directory!, name + ".conf");
        File.WriteAllLines(config,
        [
            $"port {port.ToString(CultureInfo.InvariantCulture)}",
            "bind 127.0.0.1",
            "protected-mode no",
            "daemonize no",
            $"dir {_directory}",
            $"logfile {Path.Combine(_directory!, name + ".log")}",
            $"requirepass {SentinelPassword}",
            $"sentinel sentinel-pass {SentinelPassword}",
            $"sentinel monitor {MasterName} 127.0.0.1 {DataPorts[0].ToString(CultureInfo.InvariantCulture)} 1",
            $"sentinel auth-pass {MasterName} {Password}",
            $"sentinel down-after-milliseconds {MasterName} {downAfterMilliseconds.ToString(CultureInfo.InvariantCulture)}",
            $"sentinel failover-timeout {MasterName} 5000",
            $"sentinel parallel-syncs {MasterName} 1",
        ]);
        Start(Executable("redis-sentinel"), [config]);
    }

    private Process Start(string executable, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory!,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{executable} did not start.");
        lock (_gate)
        {
            _processes.Add(process);
        }

        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Executable(string name) =>
        new[] { $"/usr/bin/{name}", $"/usr/local/bin/{name}" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed: run 'apt-get install -y redis-server redis-sentinel' (./build.sh test does it).");

    private async Task WaitForAsync(string what, Func<Task<bool>> condition, bool exitedIsFailure = true)
    {
        var deadline = DateTime.UtcNow + s_wait;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (exitedIsFailure && _processes.FirstOrDefault(p => p.HasExited) is { } exited)
                {
                    throw new InvalidOperationException($"{exited.StartInfo.FileName} exited (code {exited.ExitCode}) while waiting for {what}.\n{Logs()}");
                }
            }

            try
            {
                if (await condition().ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (RedisException ex)
            {
                last = ex;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        throw new TimeoutException($"Timed out after {s_wait.TotalSeconds} s waiting for {what}{(last is null ? "" : $" (last error: {last.Message})")}.\n{Logs()}");
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            foreach (var process in _processes)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }
    }
}
