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
            outcomes.Add(await RunLatencyAsync(settings, progress));
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
        var (redis, redisMissing) = await StartRedisAsync(cases.Any(static c => c.Framework.NeedsRedis()), progress);
        try
        {
            var (djangoVersions, djangoMissing) = cases.Any(static c => c.Framework == BroadcastFramework.Django)
                ? await DaphneServer.ProbeAsync()
                : (null, null);
            if (djangoVersions is not null)
            {
                progress.WriteLine($"  {djangoVersions}");
            }

            var prerequisites = new BroadcastPrerequisites(redis, redisMissing ?? "no redis-server", djangoVersions, djangoMissing ?? redisMissing);
            var (outcome, results) = await ThroughputScenario.RunAsync(cases, prerequisites, settings.BroadcastRounds, progress, settings.Interleave);
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

    /// <summary>d): the selected pairs one after another, with the suite's own redis-server when any needs one.</summary>
    private static async Task<ScenarioOutcome> RunLatencyAsync(HarnessSettings settings, TextWriter progress)
    {
        var pairs = LatencyPair.All.Where(p => settings.LatencyPairs?.Contains(p.Id) ?? true).ToList();
        progress.WriteLine($"d) latency, {pairs.Count} pair(s): {string.Join(", ", pairs.Select(static p => p.Id))}");
        var (redis, redisMissing) = await StartRedisAsync(pairs.Any(static p => p.NeedsRedis), progress);
        try
        {
            var outcome = await LatencyScenario.RunAsync(pairs, redis, redisMissing ?? "no redis-server", progress);
            if (redis is not null)
            {
                outcome.Ratios.Add($"redis-server {redis.Version}");
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

    /// <summary>The suite's redis-server when <paramref name="needed"/>, or why there is none (the cases that need it are then "not run").</summary>
    private static async Task<(RedisServerProcess? Redis, string? Missing)> StartRedisAsync(bool needed, TextWriter progress)
    {
        if (!needed)
        {
            return (null, null);
        }

        try
        {
            var redis = await RedisServerProcess.StartAsync();
            progress.WriteLine($"  redis-server {redis.Version} on 127.0.0.1:{redis.Port} (--save \"\" --appendonly no)");
            return (redis, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or StackExchange.Redis.RedisException or System.ComponentModel.Win32Exception or IOException)
        {
            return (null, $"no redis-server: {ex.Message}");
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
