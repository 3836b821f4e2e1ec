using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>What the server's <c>/stats</c> reported (bytes, counts, milliseconds).</summary>
internal sealed record ServerStats(
    long Managed,
    long HeapSize,
    long Committed,
    long Rss,
    long RssAnon,
    long Allocated,
    int Gen0,
    int Gen1,
    int Gen2,
    double CpuMs,
    int OsThreads,
    int PoolThreads,
    long WorkItems,
    long LockContention,
    int Warnings,
    string FirstWarning)
{
    public static ServerStats Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new ServerStats(
            root.GetProperty("managed").GetInt64(),
            root.GetProperty("heapSize").GetInt64(),
            root.GetProperty("committed").GetInt64(),
            root.GetProperty("rss").GetInt64(),
            root.GetProperty("rssAnon").GetInt64(),
            root.GetProperty("allocated").GetInt64(),
            root.GetProperty("gen0").GetInt32(),
            root.GetProperty("gen1").GetInt32(),
            root.GetProperty("gen2").GetInt32(),
            root.GetProperty("cpuMs").GetDouble(),
            root.GetProperty("osThreads").GetInt32(),
            root.GetProperty("poolThreads").GetInt32(),
            root.GetProperty("workItems").GetInt64(),
            root.GetProperty("lockContention").GetInt64(),
            root.GetProperty("warnings").GetInt32(),
            root.GetProperty("firstWarning").GetString() ?? "");
    }
}

/// <summary>
/// A <see cref="BroadcastServer"/> in a child process of its own (this same executable, hidden subcommand), so
/// its memory, allocations, GCs and CPU time are its alone and a fresh one can be started per measure.
/// Disposing closes its stdin (it exits) and kills it if it has not exited within 3 s.
/// </summary>
internal sealed class ServerProcess : IRoomServer
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly HttpClient _http;

    private ServerProcess(BroadcastFramework framework, Process process, Uri baseAddress)
    {
        Framework = framework;
        _process = process;
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public BroadcastFramework Framework { get; }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public TimeSpan CpuTime => ProcessCpu.Of(_process);

    /// <summary>Starts a server of <paramref name="framework"/>. <paramref name="layerCapacity"/>: the in-memory layer's
    /// per-channel capacity, null for its default; <paramref name="redisUrl"/>: the Redis the layer or backplane uses.</summary>
    public static async Task<ServerProcess> StartAsync(BroadcastFramework framework, int? layerCapacity = null, string? redisUrl = null)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this process's executable to start the server.");
        var start = new ProcessStartInfo
        {
            FileName = self,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (string.Equals(System.IO.Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location); // run as "dotnet Channels.Net.Benchmarks.dll"
        }

        start.ArgumentList.Add(BroadcastServer.Command);
        start.ArgumentList.Add(framework.ToString());
        start.ArgumentList.Add(layerCapacity?.ToString(CultureInfo.InvariantCulture) ?? BroadcastServer.DefaultCapacity);
        if (redisUrl is not null)
        {
            start.ArgumentList.Add(redisUrl);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The server process did not start.");
        var stderr = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.Enqueue(e.Data);
                if (stderr.Count > 20)
                {
                    stderr.Dequeue();
                }
            }
        };
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"The {framework} server exited before listening (exit code {(process.WaitForExit(1000) ? process.ExitCode : -1)}): {string.Join(" | ", stderr)}");
                if (line.StartsWith("listening ", StringComparison.Ordinal))
                {
                    var url = line["listening ".Length..].Trim();
                    return new ServerProcess(framework, process, new Uri(url.EndsWith('/') ? url : url + "/"));
                }
            }
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>The server's figures; with <paramref name="collect"/>, after a full compacting GC in the server.</summary>
    public async Task<ServerStats> StatsAsync(bool collect = false)
    {
        var json = await _http.GetStringAsync(collect ? "stats?gc=1" : "stats");
        return ServerStats.Parse(json);
    }

    public async Task<ServerStats?> TryStatsAsync() => await StatsAsync();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            Kill(_process);
        }

        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: false); // our own child, by its handle
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }
}
