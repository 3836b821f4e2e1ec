using System.Diagnostics;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>A warm-up round may use a smaller workload (the Python side's rounds are slow); a measured round never does.</summary>
public enum RoundKind
{
    Warmup,
    Measured,
}

/// <summary>What one round of a Redis case measured. <see cref="PhaseTicks"/> is the time until the last send returned (fan-out).</summary>
public readonly record struct Measured(long Operations, long ElapsedTicks, long AllocatedBytes = 0, int Gen0 = 0, int Gen1 = 0, int Gen2 = 0, long PhaseTicks = 0)
{
    public static Measured FromSeconds(long operations, double seconds, double phaseSeconds = 0) =>
        new(operations, (long)(seconds * Stopwatch.Frequency), PhaseTicks: (long)(phaseSeconds * Stopwatch.Frequency));
}

/// <summary>One implementation in a Redis scenario: ours (timed here) or Python's (timed by Python).</summary>
/// <param name="Name">Row label.</param>
/// <param name="Unit">"msg" or "delivery".</param>
/// <param name="OperationsPerRound">Operations in a measured round.</param>
/// <param name="Round">Runs one round.</param>
public sealed record RedisCase(string Name, string Unit, long OperationsPerRound, Func<RoundKind, Task<Measured>> Round)
{
    public bool IsBaseline { get; init; }

    /// <summary>Measured rounds (the median is reported). Warm-up: at least <see cref="MinWarmupRounds"/> rounds and
    /// <see cref="MinWarmupTime"/>, then one more round watched by the MONITOR census.</summary>
    public int Rounds { get; init; } = 5;

    public int MinWarmupRounds { get; init; } = 3;

    public TimeSpan MinWarmupTime { get; init; } = TimeSpan.FromMilliseconds(600);

    /// <summary>.NET cases force a GC before each round (outside the timing), as the harness does.</summary>
    public bool ForceGc { get; init; }
}

/// <summary>A case's rounds, the Redis commands they caused, and the MONITOR census of its last warm-up round.</summary>
public sealed class RedisCaseResult(BenchResult result, CommandCounts commands, long commandOperations, long censusClient, long censusScript, long censusOperations, double medianPhaseMs)
{
    public BenchResult Result { get; } = result;

    /// <summary>INFO commandstats deltas summed over the measured rounds (commands inside Lua scripts included).</summary>
    public CommandCounts Commands { get; } = commands;

    public long CommandOperations { get; } = commandOperations;

    /// <summary>Redis commands executed per operation (commandstats, measured rounds).</summary>
    public double CommandsPerOp => Commands.Total / (double)CommandOperations;

    /// <summary>Requests clients sent per operation (MONITOR census): round trips, pipelined or not.</summary>
    public double RequestsPerOp => censusClient / (double)censusOperations;

    /// <summary>Commands run inside Lua scripts per operation (MONITOR census).</summary>
    public double ScriptCommandsPerOp => censusScript / (double)censusOperations;

    /// <summary>Median of the rounds' send phase (fan-out: until the last group_send returned), ms.</summary>
    public double MedianPhaseMs { get; } = medianPhaseMs;
}

/// <summary>
/// Runs the cases of one Redis scenario: each is warmed up, one more untimed round is watched by a
/// MONITOR census, then the measured rounds of all cases are interleaved (A B, B A, ...) with INFO
/// commandstats read before and after each round.
/// </summary>
public static class RedisRunner
{
    public static async Task<IReadOnlyList<RedisCaseResult>> RunAsync(IReadOnlyList<RedisCase> cases, RedisServerProcess server, TextWriter progress)
    {
        var warmups = new int[cases.Count];
        var census = new (long Client, long Script, long Ops)[cases.Count];
        for (var c = 0; c < cases.Count; c++)
        {
            var started = Stopwatch.GetTimestamp();
            while (warmups[c] < cases[c].MinWarmupRounds || Stopwatch.GetElapsedTime(started) < cases[c].MinWarmupTime)
            {
                await RoundAsync(cases[c], RoundKind.Warmup).ConfigureAwait(false);
                warmups[c]++;
            }

            await using (var monitor = await MonitorCensus.StartAsync(server.Port).ConfigureAwait(false))
            {
                var m = await RoundAsync(cases[c], RoundKind.Warmup).ConfigureAwait(false);
                await monitor.StopAsync(server, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                census[c] = (monitor.ClientCommands, monitor.ScriptCommands, m.Operations);
            }

            progress.WriteLine($"  warmed up '{cases[c].Name}': {warmups[c]} rounds + 1 census round in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
        }

        var samples = cases.Select(static _ => new List<RoundSample>()).ToArray();
        var phases = cases.Select(static _ => new List<double>()).ToArray();
        var commands = cases.Select(static _ => CommandCounts.Empty).ToArray();
        var commandOps = new long[cases.Count];
        var maxRounds = cases.Max(static c => c.Rounds);
        for (var r = 0; r < maxRounds; r++)
        {
            for (var i = 0; i < cases.Count; i++)
            {
                var c = r % 2 == 0 ? i : cases.Count - 1 - i;
                if (r >= cases[c].Rounds)
                {
                    continue;
                }

                var before = await server.ReadCommandCountsAsync().ConfigureAwait(false);
                var m = await RoundAsync(cases[c], RoundKind.Measured).ConfigureAwait(false);
                var after = await server.ReadCommandCountsAsync().ConfigureAwait(false);
                commands[c] = commands[c].Plus(after.Since(before));
                commandOps[c] += m.Operations;
                samples[c].Add(new RoundSample(m.Operations, m.ElapsedTicks, m.AllocatedBytes, m.Gen0, m.Gen1, m.Gen2));
                phases[c].Add(m.PhaseTicks * 1000.0 / Stopwatch.Frequency);
            }
        }

        return
        [
            .. cases.Select((c, i) => new RedisCaseResult(
                new BenchResult(new BenchCase(c.Name, c.Unit, c.OperationsPerRound, static () => { }) { IsBaseline = c.IsBaseline }, samples[i], warmups[i] + 1),
                commands[i],
                commandOps[i],
                census[i].Client,
                census[i].Script,
                census[i].Ops,
                Median(phases[i]))),
        ];
    }

    private static async Task<Measured> RoundAsync(RedisCase redisCase, RoundKind kind)
    {
        if (redisCase.ForceGc)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        }

        return await redisCase.Round(kind).ConfigureAwait(false);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>Times a .NET round: wall clock, process-wide allocation and GC counts (the pumps and the Redis client run on other threads).</summary>
public static class DotNetTimer
{
    public static async Task<Measured> TimeAsync(long operations, Func<Task<long>> body)
    {
        var gen0 = GC.CollectionCount(0);
        var gen1 = GC.CollectionCount(1);
        var gen2 = GC.CollectionCount(2);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        var phaseEnd = await body().ConfigureAwait(false);
        var end = Stopwatch.GetTimestamp();
        var allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        return new Measured(
            operations,
            end - start,
            allocatedAfter - allocated,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2,
            phaseEnd == 0 ? 0 : phaseEnd - start);
    }
}
