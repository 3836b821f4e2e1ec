using System.Diagnostics;
using System.Globalization;

namespace Channels.Net.Tests.Shared;

/// <summary>
/// A real Redis Cluster on loopback for the Redis and sample test projects (linked into both): six
/// <c>redis-server --cluster-enabled yes</c> processes on free ports, each in its own temporary
/// directory, joined by <c>redis-cli --cluster create … --cluster-replicas 1</c> into three primaries
/// with one replica each. Every process is killed on dispose, and on a failed start.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime
{
    /// <summary>How many nodes (three primaries, three replicas).</summary>
    public const int NodeCount = 6;

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly Node[] _nodes = new Node[NodeCount];
    private string? _directory;

    /// <summary>The nodes' ports.</summary>
    public IReadOnlyList<int> Ports => [.. _nodes.Select(static n => n.Port)];

    /// <summary>Every node as a <c>redis://</c> URL (seeds for a layer).</summary>
    public IReadOnlyList<string> Urls => [.. _nodes.Select(static n => $"redis://127.0.0.1:{n.Port}")];

    public async Task InitializeAsync()
    {
        var executable = Executable("redis-server");
        var cli = Executable("redis-cli");
        _directory = Directory.CreateTempSubdirectory("channels-cluster-").FullName;
        try
        {
            for (var i = 0; i < NodeCount; i++)
            {
                _nodes[i] = NewNode(i);
                StartProcess(executable, _nodes[i]);
            }

            for (var i = 0; i < NodeCount; i++)
            {
                // A port found free can be taken by another test's server before this node binds it; the
                // node then exits at once. Start it again on fresh ports (a few times) rather than fail the class.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await WaitForPingAsync(_nodes[i]).ConfigureAwait(false);
                        break;
                    }
                    catch (InvalidOperationException) when (attempt < 3 && _nodes[i].Process is { HasExited: true })
                    {
                        await StopAsync(_nodes[i]).ConfigureAwait(false);
                        _nodes[i] = NewNode(i);
                        StartProcess(executable, _nodes[i]);
                    }
                }
            }

            var create = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            create.ArgumentList.Add("--cluster");
            create.ArgumentList.Add("create");
            foreach (var node in _nodes)
            {
                create.ArgumentList.Add($"127.0.0.1:{node.Port}");
            }

            create.ArgumentList.Add("--cluster-replicas");
            create.ArgumentList.Add("1");
            create.ArgumentList.Add("--cluster-yes");
            using (var process = Process.Start(create) ?? throw new InvalidOperationException("redis-cli did not start."))
            {
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync().WaitAsync(s_startTimeout).ConfigureAwait(false);
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"redis-cli --cluster create failed ({process.ExitCode}): {await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
                }
            }

            await WaitHealthyAsync().ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits until every running node reports <c>cluster_state:ok</c> with all 16384 slots served,
    /// knows every node, and agrees on who serves each slot.
    /// </summary>
    public async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        string last = "";
        while (true)
        {
            try
            {
                var ok = true;
                string? shape = null;
                foreach (var node in _nodes.Where(static n => n.Process is not null))
                {
                    var info = await CliAsync(node.Port, "CLUSTER", "INFO").ConfigureAwait(false);
                    var layout = await SlotLayoutAsync(node.Port).ConfigureAwait(false);
                    last = $"{node.Port}: {info.Replace("\r\n", " ", StringComparison.Ordinal)} {layout}";
                    ok &= info.Contains("cluster_state:ok", StringComparison.Ordinal)
                        && info.Contains("cluster_slots_ok:16384", StringComparison.Ordinal)
                        && info.Contains($"cluster_known_nodes:{NodeCount}", StringComparison.Ordinal);
                    ok &= shape is null || shape == layout;
                    shape = layout;
                }

                if (ok)
                {
                    return;
                }
            }
            catch (InvalidOperationException ex)
            {
                last = ex.Message;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The cluster did not become healthy: {last}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>The port of the primary serving <paramref name="slot"/>, as the node on <paramref name="askPort"/> (or any) says.</summary>
    public async Task<int> PrimaryPortOfAsync(int slot, int? askPort = null)
    {
        foreach (var line in (await CliAsync(askPort ?? RunningPorts()[0], "CLUSTER", "NODES").ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (!parts[2].Contains("master", StringComparison.Ordinal) || parts[2].Contains("fail", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var range in parts.Skip(8).Where(static p => !p.StartsWith('[')))
            {
                var bounds = range.Split('-');
                var from = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                var to = bounds.Length == 2 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : from;
                if (slot >= from && slot <= to)
                {
                    return PortOf(parts[1]);
                }
            }
        }

        throw new InvalidOperationException($"No primary serves slot {slot}.");
    }

    /// <summary>The ports of the primaries that serve slots now.</summary>
    public async Task<IReadOnlyList<int>> PrimaryPortsAsync()
    {
        var ports = new List<int>();
        foreach (var line in (await CliAsync(RunningPorts()[0], "CLUSTER", "NODES").ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts[2].Contains("master", StringComparison.Ordinal) && !parts[2].Contains("fail", StringComparison.Ordinal) && parts.Length > 8)
            {
                ports.Add(PortOf(parts[1]));
            }
        }

        return ports;
    }

    /// <summary>
    /// The port of a replica of the primary on <paramref name="primaryPort"/>, waiting (up to the start timeout) for one
    /// that is connected: after a test killed and restarted a node, it rejoins as a replica only a moment later.
    /// </summary>
    public async Task<int> ReplicaPortOfAsync(int primaryPort)
    {
        var primaryId = await NodeIdAsync(primaryPort).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            foreach (var line in (await CliAsync(primaryPort, "CLUSTER", "NODES").ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                if (parts[2].Contains("slave", StringComparison.Ordinal) && !parts[2].Contains("fail", StringComparison.Ordinal)
                    && parts[3] == primaryId && parts[7] == "connected")
                {
                    return PortOf(parts[1]);
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The primary on {primaryPort} has no connected replica after {s_startTimeout.TotalSeconds} s.");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>How many times the primaries ran scripts (<c>EVAL</c> and <c>EVALSHA</c>, from <c>INFO commandstats</c>).</summary>
    public async Task<long> ScriptCallsAsync()
    {
        var calls = 0L;
        foreach (var port in await PrimaryPortsAsync().ConfigureAwait(false))
        {
            foreach (var line in (await CliAsync(port, "INFO", "commandstats").ConfigureAwait(false)).Split('\n'))
            {
                if (line.StartsWith("cmdstat_eval:", StringComparison.Ordinal) || line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal))
                {
                    var text = line[(line.IndexOf("calls=", StringComparison.Ordinal) + 6)..];
                    calls += long.Parse(text[..text.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                }
            }
        }

        return calls;
    }

    /// <summary>The cluster node id of the node on <paramref name="port"/>.</summary>
    public async Task<string> NodeIdAsync(int port) => (await CliAsync(port, "CLUSTER", "MYID").ConfigureAwait(false)).Trim();

    /// <summary>Runs one command with <c>redis-cli</c> on the node on <paramref name="port"/> (no redirection) and returns its reply as text, one line per array element.</summary>
    /// <exception cref="InvalidOperationException">The node could not be reached or answered an error.</exception>
    public Task<string> CliAsync(int port, params string[] command) => CliStaticAsync(port, command);

    /// <summary>Moves <paramref name="slot"/> and its keys from its primary to the primary on <paramref name="toPort"/>, by hand, as <c>redis-cli --cluster reshard</c> does.</summary>
    public async Task MoveSlotAsync(int slot, int toPort, Func<Task>? betweenKeys = null)
    {
        var fromPort = await PrimaryPortOfAsync(slot).ConfigureAwait(false);
        if (fromPort == toPort)
        {
            return;
        }

        var fromId = await NodeIdAsync(fromPort).ConfigureAwait(false);
        var toId = await NodeIdAsync(toPort).ConfigureAwait(false);
        var s = slot.ToString(CultureInfo.InvariantCulture);
        await CliAsync(toPort, "CLUSTER", "SETSLOT", s, "IMPORTING", fromId).ConfigureAwait(false);
        await CliAsync(fromPort, "CLUSTER", "SETSLOT", s, "MIGRATING", toId).ConfigureAwait(false);
        while (true)
        {
            var keys = (await CliAsync(fromPort, "CLUSTER", "GETKEYSINSLOT", s, "1").ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (keys.Length == 0)
            {
                break;
            }

            await CliAsync(fromPort, ["MIGRATE", "127.0.0.1", toPort.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys]).ConfigureAwait(false);
            if (betweenKeys is not null)
            {
                await betweenKeys().ConfigureAwait(false);
            }
        }

        // As redis-cli --cluster reshard does: the new owner first, then the old one, then the rest.
        await CliAsync(toPort, "CLUSTER", "SETSLOT", s, "NODE", toId).ConfigureAwait(false);
        await CliAsync(fromPort, "CLUSTER", "SETSLOT", s, "NODE", toId).ConfigureAwait(false);
        foreach (var port in (await PrimaryPortsAsync().ConfigureAwait(false)).Where(p => p != toPort && p != fromPort))
        {
            await CliAsync(port, "CLUSTER", "SETSLOT", s, "NODE", toId).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the node on <paramref name="port"/> (a crash).</summary>
    public async Task KillAsync(int port)
    {
        var node = _nodes.Single(n => n.Port == port);
        await StopAsync(node).ConfigureAwait(false);
    }

    /// <summary>Starts the node on <paramref name="port"/> again, with its cluster config (it rejoins).</summary>
    public async Task RestartAsync(int port)
    {
        var node = _nodes.Single(n => n.Port == port);
        StartProcess(Executable("redis-server"), node);
        await WaitForPingAsync(node).ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await StopAsync(node).ConfigureAwait(false);
            }
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
            _directory = null;
        }
    }

    private int[] RunningPorts() => [.. _nodes.Where(static n => n.Process is not null).Select(static n => n.Port)];

    private static int PortOf(string address) =>
        int.Parse(address[(address.LastIndexOf(':') + 1)..].Split('@')[0], CultureInfo.InvariantCulture);

    /// <summary>Each primary's slot ranges, as one node sees them, in one string (nodes agree when theirs are equal).</summary>
    private static async Task<string> SlotLayoutAsync(int port)
    {
        var nodes = await CliStaticAsync(port, "CLUSTER", "NODES").ConfigureAwait(false);
        return string.Join(";", nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(static l => l.Split(' '))
            .Where(static p => p.Length > 8 && p[2].Contains("master", StringComparison.Ordinal))
            .Select(static p => p[0] + "=" + string.Join(",", p.Skip(8)))
            .Order(StringComparer.Ordinal));
    }

    private static async Task<string> CliStaticAsync(int port, params string[] command)
    {
        var info = new ProcessStartInfo(Executable("redis-cli")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture) }.Concat(command))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("redis-cli did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        var text = await output.ConfigureAwait(false);
        var problem = await error.ConfigureAwait(false);
        if (process.ExitCode != 0 || problem.Length > 0 || text.StartsWith("ERR", StringComparison.Ordinal) || text.StartsWith("Could not connect", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli -p {port} {string.Join(' ', command)}: {text}{problem}");
        }

        return text;
    }

    private static void StartProcess(string executable, Node node)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = node.Directory,
        };
        foreach (var arg in new[]
        {
            "--port", node.Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--cluster-enabled", "yes", "--cluster-port", node.BusPort.ToString(CultureInfo.InvariantCulture),
            "--cluster-config-file", $"nodes-{node.Port}.conf", "--cluster-node-timeout", "2000",

            // A replica of a young cluster may otherwise count itself too stale to take over ("Disconnected
            // from master for longer than allowed"), and the cluster would stay down after a primary dies.
            "--cluster-replica-validity-factor", "0",
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
        })
        {
            info.ArgumentList.Add(arg);
        }

        node.Process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        node.Process.OutputDataReceived += static (_, _) => { };
        node.Process.ErrorDataReceived += static (_, _) => { };
        node.Process.BeginOutputReadLine();
        node.Process.BeginErrorReadLine();
    }

    private static async Task StopAsync(Node node)
    {
        if (node.Process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }

            process.Dispose();
            node.Process = null;
        }
    }

    private Node NewNode(int index)
    {
        var node = new Node(RedisServer.FreePort(), RedisServer.FreePort(), Path.Combine(_directory!, $"{index}-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(node.Directory);
        return node;
    }

    /// <summary>Waits until the node answers PING; fails at once if its process exited (e.g. its port was taken).</summary>
    private static async Task WaitForPingAsync(Node node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                await CliStaticAsync(node.Port, "PING").ConfigureAwait(false);
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline && node.Process is not { HasExited: true })
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    private static string Executable(string name) =>
        new[] { $"/usr/bin/{name}", $"/usr/local/bin/{name}" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed: run 'apt-get install -y redis-server' (./build.sh test does it).");

    private sealed class Node(int port, int busPort, string directory)
    {
        public int Port { get; } = port;

        public int BusPort { get; } = busPort;

        public string Directory { get; } = directory;

        public Process? Process { get; set; }
    }
}
