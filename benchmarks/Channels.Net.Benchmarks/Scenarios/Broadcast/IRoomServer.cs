using System.Diagnostics;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>One running room server (a .NET <see cref="ServerProcess"/> or a <see cref="DaphneServer"/>), a child process of the benchmark.</summary>
internal interface IRoomServer : IAsyncDisposable
{
    BroadcastFramework Framework { get; }

    /// <summary>http://127.0.0.1:port/</summary>
    Uri BaseAddress { get; }

    int ProcessId { get; }

    /// <summary>CPU time the server process has used so far (read from the parent's handle, so any server has it).</summary>
    TimeSpan CpuTime { get; }

    /// <summary>The server's own figures (<c>/stats</c>); null for a server that has none (daphne).</summary>
    Task<ServerStats?> TryStatsAsync();
}

/// <summary>CPU time of a child process, read through the parent's handle.</summary>
internal static class ProcessCpu
{
    public static TimeSpan Of(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }
}
