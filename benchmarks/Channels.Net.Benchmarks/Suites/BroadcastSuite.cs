using System.Diagnostics;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Broadcast;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>
/// Room broadcast over real WebSockets on loopback: the tutorial's <see cref="ChatConsumer"/> on Channels.Net beside
/// an ASP.NET Core SignalR hub doing the same, each server in a child process of its own (see benchmarks/README.md).
/// </summary>
public sealed class BroadcastSuite : IBenchmarkSuite
{
    public string Name => "broadcast";

    public string Description => "Room broadcast over loopback WebSockets: Channels.Net ChatConsumer vs a SignalR hub (throughput, latency, memory per idle connection)";

    public async Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        var outcomes = new List<ScenarioOutcome>();
        progress.WriteLine($"broadcast: load average {LoadAverage()} at start (2 cores: the others' work slows every figure below)");
        progress.WriteLine($"broadcast: server processes on 127.0.0.1; in-memory layer capacity {settings.LayerCapacity:N0}; {settings.BroadcastRounds} rounds; {settings.IdleConnections:N0} idle connections");

        var started = Stopwatch.GetTimestamp();
        var scenarios = settings.BroadcastScenarios;
        if (scenarios.Contains('c', StringComparison.Ordinal) || scenarios.Contains('d', StringComparison.Ordinal))
        {
            await RunRoomScenariosAsync(settings, progress, outcomes);
        }

        if (scenarios.Contains('e', StringComparison.Ordinal))
        {
            progress.WriteLine($"e) memory per idle connection: {settings.IdleConnections:N0} connections, fresh server per framework ...");
            outcomes.Add(await IdleMemoryScenario.RunAsync(settings.IdleConnections, settings.LayerCapacity, settings.IdleHoldSeconds, progress));
        }

        progress.WriteLine($"broadcast suite took {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s; load average {LoadAverage()} at the end");
        return outcomes;
    }

    /// <summary>c) and d): both servers up, 200 clients each in one room.</summary>
    private static async Task RunRoomScenariosAsync(HarnessSettings settings, TextWriter progress, List<ScenarioOutcome> outcomes)
    {
        ServerProcess? channelsServer = null, signalRServer = null;
        Room? channels = null, signalR = null;
        try
        {
            channelsServer = await ServerProcess.StartAsync(BroadcastFramework.ChannelsNet, settings.LayerCapacity);
            signalRServer = await ServerProcess.StartAsync(BroadcastFramework.SignalR, settings.LayerCapacity);
            channels = new Room(channelsServer, "bench");
            signalR = new Room(signalRServer, "bench");
            foreach (var room in new[] { channels, signalR })
            {
                var connect = await room.ConnectAsync(ThroughputScenario.Clients, TimeSpan.FromSeconds(60));
                progress.WriteLine($"  {room.Framework.Label(),-12} server pid {room.Server.ProcessId} at {room.Server.BaseAddress}: {connect.Connected}/{connect.Requested} clients joined in {connect.Elapsed.TotalSeconds:F1} s");
                if (connect.Connected != ThroughputScenario.Clients)
                {
                    throw new InvalidOperationException($"{room.Framework.Label()}: only {connect.Connected} of {ThroughputScenario.Clients} clients connected ({connect.FirstError}).");
                }
            }

            if (settings.BroadcastScenarios.Contains('c', StringComparison.Ordinal))
            {
                progress.WriteLine($"c) burst: {ThroughputScenario.Senders} senders x {ThroughputScenario.MessagesPerSender} messages to {ThroughputScenario.Clients} clients ...");
                outcomes.Add(await ThroughputScenario.RunAsync(channels, signalR, settings.BroadcastRounds, progress));
            }

            if (settings.BroadcastScenarios.Contains('d', StringComparison.Ordinal))
            {
                if (!settings.BroadcastScenarios.Contains('c', StringComparison.Ordinal))
                {
                    progress.WriteLine("d) warm-up (c was not run) ...");
                    await ThroughputScenario.WarmUpAsync([channels, signalR], ThroughputScenario.WarmupBursts, progress);
                }

                progress.WriteLine($"d) latency at {LatencyScenario.DeliveriesPerSecond:N0} deliveries/s ...");
                outcomes.Add(await LatencyScenario.RunAsync(channels, signalR, progress));
            }
        }
        finally
        {
            // Servers first: the clients' teardown is then instant.
            foreach (var server in new[] { channelsServer, signalRServer })
            {
                if (server is not null)
                {
                    await server.DisposeAsync();
                }
            }

            foreach (var room in new[] { channels, signalR })
            {
                if (room is not null)
                {
                    await room.DisposeAsync();
                }
            }
        }
    }

    /// <summary>The 1/5/15-minute load averages (Linux), to tell a quiet machine from a busy one.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
