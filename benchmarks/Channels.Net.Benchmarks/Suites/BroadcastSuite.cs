using System.Diagnostics;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Broadcast;
using Channels.Net.Benchmarks.Scenarios.Redis;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>
/// Room broadcast over real WebSockets on loopback, every framework on its defaults: the tutorial's
/// <see cref="ChatConsumer"/> on Channels.Net's in-memory, Redis and Redis pub/sub layers, an ASP.NET Core SignalR hub
/// without and with its Redis backplane, and Django's tutorial consumer under daphne on channels_redis; each server in
/// a child process of its own (see benchmarks/README.md).
/// </summary>
public sealed class BroadcastSuite : IBenchmarkSuite
{
    public string Name => "broadcast";

    public string Description => "Room broadcast over loopback WebSockets, defaults: Channels.Net (in-memory, Redis, PubSub) vs SignalR (+ Redis backplane) vs Django/daphne (burst, latency, memory per idle connection)";

    public async Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        var outcomes = new List<ScenarioOutcome>();
        progress.WriteLine($"broadcast: load average {LoadAverage()} at start (2 cores: the others' work slows every figure below)");
        progress.WriteLine($"broadcast: server processes on 127.0.0.1; every layer on its defaults{(settings.LayerCapacity is { } n ? $", plus a tuned in-memory case with capacity {n:N0}" : "")}; {settings.BroadcastRounds} rounds; {settings.IdleConnections:N0} idle connections");

        var started = Stopwatch.GetTimestamp();
        var scenarios = settings.BroadcastScenarios;
        if (scenarios.Contains('c', StringComparison.Ordinal))
        {
            outcomes.Add(await RunBurstCasesAsync(settings, progress));
        }

        if (scenarios.Contains('d', StringComparison.Ordinal))
        {
            outcomes.Add(await RunLatencyAsync(progress));
        }

        if (scenarios.Contains('e', StringComparison.Ordinal))
        {
            progress.WriteLine($"e) memory per idle connection: {settings.IdleConnections:N0} connections, fresh server per framework ...");
            outcomes.Add(await IdleMemoryScenario.RunAsync(settings.IdleConnections, settings.IdleHoldSeconds, progress));
        }

        progress.WriteLine($"broadcast suite took {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s; load average {LoadAverage()} at the end");
        return outcomes;
    }

    /// <summary>c): the selected cases one after another, with the suite's own redis-server when any needs one.</summary>
    private static async Task<ScenarioOutcome> RunBurstCasesAsync(HarnessSettings settings, TextWriter progress)
    {
        var cases = BroadcastCase.All(settings.LayerCapacity).Where(c => settings.BroadcastCases?.Contains(c.Id) ?? true).ToList();
        progress.WriteLine($"c) burst, {cases.Count} case(s): {string.Join(", ", cases.Select(static c => c.Id))}");
        RedisServerProcess? redis = null;
        string? redisMissing = null;
        try
        {
            if (cases.Any(static c => c.Framework.NeedsRedis()))
            {
                try
                {
                    redis = await RedisServerProcess.StartAsync();
                    progress.WriteLine($"  redis-server {redis.Version} on 127.0.0.1:{redis.Port} (--save \"\" --appendonly no)");
                }
                catch (Exception ex) when (ex is InvalidOperationException or StackExchange.Redis.RedisException or System.ComponentModel.Win32Exception or IOException)
                {
                    redisMissing = $"no redis-server: {ex.Message}";
                }
            }

            var (djangoVersions, djangoMissing) = cases.Any(static c => c.Framework == BroadcastFramework.Django)
                ? await DaphneServer.ProbeAsync()
                : (null, null);
            if (djangoVersions is not null)
            {
                progress.WriteLine($"  {djangoVersions}");
            }

            var prerequisites = new BroadcastPrerequisites(redis, redisMissing ?? "no redis-server", djangoVersions, djangoMissing ?? redisMissing);
            var (outcome, results) = await ThroughputScenario.RunAsync(cases, prerequisites, settings.BroadcastRounds, progress);
            if (redis is not null)
            {
                outcome.Ratios.Add($"redis-server {redis.Version}");
            }

            if (djangoVersions is not null)
            {
                outcome.Ratios.Add(djangoVersions);
            }

            if (settings.SvgPath is { } svg)
            {
                BroadcastChart.Write(svg, results, $"{DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, {settings.BroadcastRounds} rounds per case; load average {LoadAverage()} after the run");
                progress.WriteLine($"  chart written to {svg}");
            }

            return outcome;
        }
        finally
        {
            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
        }
    }

    /// <summary>d): Channels.Net (in-memory, defaults) and SignalR, 200 clients each in one room, warmed up first.</summary>
    private static async Task<ScenarioOutcome> RunLatencyAsync(TextWriter progress)
    {
        var load = BroadcastLoad.Full;
        var servers = new List<ServerProcess>();
        var rooms = new List<Room>();
        try
        {
            foreach (var framework in new[] { BroadcastFramework.ChannelsNet, BroadcastFramework.SignalR })
            {
                var server = await ServerProcess.StartAsync(framework);
                servers.Add(server);
                var room = new Room(server, "bench");
                rooms.Add(room);
                var connect = await room.ConnectAsync(load.Clients, TimeSpan.FromSeconds(60));
                if (connect.Connected != load.Clients)
                {
                    throw new InvalidOperationException($"{framework.Label()}: only {connect.Connected} of {load.Clients} clients connected ({connect.FirstError}).");
                }
            }

            progress.WriteLine($"d) warm-up: {ThroughputScenario.WarmupBursts} bursts per framework ...");
            for (var w = 0; w < ThroughputScenario.WarmupBursts; w++)
            {
                foreach (var room in rooms)
                {
                    await BurstRound.RunAsync(room, load, redisCpu: null);
                }
            }

            progress.WriteLine($"d) latency at {LatencyScenario.DeliveriesPerSecond:N0} deliveries/s ...");
            return await LatencyScenario.RunAsync(rooms[0], rooms[1], progress);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }

            foreach (var room in rooms)
            {
                await room.DisposeAsync();
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
