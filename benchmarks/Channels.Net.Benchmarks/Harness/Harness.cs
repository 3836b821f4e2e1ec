using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Channels.Net.Benchmarks.Harness;

/// <summary>How many rounds to run and how to warm up.</summary>
public sealed record HarnessSettings
{
    /// <summary>Measured rounds per case; the median round is reported. Odd, so the median is a real round.</summary>
    public int Rounds { get; init; } = 21;

    /// <summary>At least this many warm-up rounds per case (not reported).</summary>
    public int MinWarmupRounds { get; init; } = 3;

    /// <summary>Warm up for at least this long per case, so tiered JIT has promoted the hot methods to tier 1.</summary>
    public TimeSpan MinWarmupTime { get; init; } = TimeSpan.FromMilliseconds(600);

    /// <summary>Run a full blocking GC before every round (outside the timed region), as BenchmarkDotNet does.</summary>
    public bool ForceGcBeforeRound { get; init; } = true;

    /// <summary>broadcast suite: measured burst rounds per framework (each is 400,000 deliveries over WebSockets).</summary>
    public int BroadcastRounds { get; init; } = 3;

    /// <summary>broadcast suite: c) keeps every selected case's servers up at once and runs their bursts in turn
    /// (round r starts with case r mod n), so a drift of the shared machine falls on every case alike.</summary>
    public bool Interleave { get; init; }

    /// <summary>broadcast suite: idle connections opened per server to measure memory per connection.</summary>
    public int IdleConnections { get; init; } = 5_000;

    /// <summary>broadcast suite: a raised per-channel capacity for the Channels.Net in-memory layer, run as an extra,
    /// explicitly labelled "tuned" case beside the default one (capacity 100, Django's). Null: no tuned case.</summary>
    public int? LayerCapacity { get; init; }

    /// <summary>broadcast suite: the burst cases to run, by id (see <c>BroadcastCase.All</c>); null runs them all.</summary>
    public IReadOnlySet<string>? BroadcastCases { get; init; }

    /// <summary>broadcast suite: the latency pairs of d) to run, by id (inmemory, redis, pubsub; see <c>LatencyPair.All</c>); null runs them all.</summary>
    public IReadOnlySet<string>? LatencyPairs { get; init; }

    /// <summary>broadcast suite: write c)'s bar chart (SVG) to this path.</summary>
    public string? SvgPath { get; init; }

    /// <summary>broadcast suite: pause this long (seconds) with the server's memory at its "before" and "after" points,
    /// so the server process can be inspected (e.g. with dotnet-gcdump). 0: no pause.</summary>
    public int IdleHoldSeconds { get; init; }

    /// <summary>broadcast suite: which scenarios to run, by letter: c (burst throughput), d (latency), e (idle memory).</summary>
    public string BroadcastScenarios { get; init; } = "cde";

    /// <summary>redis suite: the case ids to run (a1, a1e, …, b12); null runs them all. The ceiling (d) always runs.</summary>
    public IReadOnlySet<string>? RedisCases { get; init; }
}

/// <summary>
/// One thing to measure. <see cref="Round"/> is timed and must perform exactly
/// <see cref="OperationsPerRound"/> operations; <see cref="BeforeRound"/> and <see cref="AfterRound"/>
/// run untimed around it (set-up, draining, checking).
/// </summary>
/// <param name="Name">Row label, e.g. "Channels.Net in-memory layer".</param>
/// <param name="Unit">What one operation is: "msg", "delivery", ...</param>
/// <param name="OperationsPerRound">Operations the timed body performs per round.</param>
/// <param name="Round">The timed body.</param>
public sealed record BenchCase(string Name, string Unit, long OperationsPerRound, Action Round)
{
    /// <summary>Untimed work before each round.</summary>
    public Action? BeforeRound { get; init; }

    /// <summary>Untimed work after each round (e.g. draining what the round produced).</summary>
    public Action? AfterRound { get; init; }

    /// <summary>Marks the baseline row of a scenario (for display only).</summary>
    public bool IsBaseline { get; init; }
}

/// <summary>What one round measured.</summary>
/// <param name="Operations">Operations performed.</param>
/// <param name="ElapsedTicks">Stopwatch ticks spent in the timed body.</param>
/// <param name="AllocatedBytes">Bytes allocated on the measuring thread during the timed body.</param>
/// <param name="Gen0">Gen-0 collections during the timed body.</param>
/// <param name="Gen1">Gen-1 collections during the timed body.</param>
/// <param name="Gen2">Gen-2 collections during the timed body.</param>
public readonly record struct RoundSample(long Operations, long ElapsedTicks, long AllocatedBytes, int Gen0, int Gen1, int Gen2)
{
    /// <summary>Nanoseconds per operation in this round.</summary>
    public double NsPerOp => ElapsedTicks * (1e9 / Stopwatch.Frequency) / Operations;

    /// <summary>Milliseconds the timed body took.</summary>
    public double ElapsedMs => ElapsedTicks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>The measured rounds of one <see cref="BenchCase"/> and their summary.</summary>
public sealed class BenchResult
{
    public BenchResult(BenchCase benchCase, IReadOnlyList<RoundSample> rounds, int warmupRounds)
    {
        if (rounds.Count == 0)
        {
            throw new ArgumentException("At least one measured round is needed.", nameof(rounds));
        }

        Case = benchCase;
        Rounds = rounds;
        WarmupRounds = warmupRounds;
        var sorted = rounds.Select(static r => r.NsPerOp).Order().ToArray();
        MedianNsPerOp = Median(sorted);
        MinNsPerOp = sorted[0];
        MaxNsPerOp = sorted[^1];
        TotalOperations = rounds.Sum(static r => r.Operations);
        TotalAllocatedBytes = rounds.Sum(static r => r.AllocatedBytes);
        Gen0 = rounds.Sum(static r => r.Gen0);
        Gen1 = rounds.Sum(static r => r.Gen1);
        Gen2 = rounds.Sum(static r => r.Gen2);
    }

    public BenchCase Case { get; }

    public IReadOnlyList<RoundSample> Rounds { get; }

    public int WarmupRounds { get; }

    /// <summary>Nanoseconds per operation of the median round.</summary>
    public double MedianNsPerOp { get; }

    /// <summary>Fastest round.</summary>
    public double MinNsPerOp { get; }

    /// <summary>Slowest round.</summary>
    public double MaxNsPerOp { get; }

    /// <summary>Operations per second of the median round.</summary>
    public double OpsPerSecond => 1e9 / MedianNsPerOp;

    public long TotalOperations { get; }

    public long TotalAllocatedBytes { get; }

    /// <summary>Bytes allocated per operation over all measured rounds (so a rare allocation still shows).</summary>
    public double BytesPerOp => (double)TotalAllocatedBytes / TotalOperations;

    public int Gen0 { get; }

    public int Gen1 { get; }

    public int Gen2 { get; }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>
/// Runs <see cref="BenchCase"/>s: each is warmed up, then the measured rounds of all cases are
/// interleaved (A B, B A, A B, ...) so that a noisy neighbour on a shared machine slows every case
/// alike instead of skewing the ratio between them.
/// </summary>
public static class Runner
{
    public static IReadOnlyList<BenchResult> RunInterleaved(IReadOnlyList<BenchCase> cases, HarnessSettings settings, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(settings);
        var warmups = new int[cases.Count];
        for (var c = 0; c < cases.Count; c++)
        {
            var started = Stopwatch.GetTimestamp();
            while (warmups[c] < settings.MinWarmupRounds || Stopwatch.GetElapsedTime(started) < settings.MinWarmupTime)
            {
                RunRound(cases[c], settings);
                warmups[c]++;
            }

            progress?.WriteLine($"  warmed up '{cases[c].Name}': {warmups[c]} rounds in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
        }

        var samples = cases.Select(static _ => new List<RoundSample>()).ToArray();
        for (var r = 0; r < settings.Rounds; r++)
        {
            for (var i = 0; i < cases.Count; i++)
            {
                var c = r % 2 == 0 ? i : cases.Count - 1 - i;
                samples[c].Add(RunRound(cases[c], settings));
            }
        }

        return [.. cases.Select((c, i) => new BenchResult(c, samples[i], warmups[i]))];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RoundSample RunRound(BenchCase benchCase, HarnessSettings settings)
    {
        benchCase.BeforeRound?.Invoke();
        if (settings.ForceGcBeforeRound)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        }

        var gen0 = GC.CollectionCount(0);
        var gen1 = GC.CollectionCount(1);
        var gen2 = GC.CollectionCount(2);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();

        benchCase.Round();

        var end = Stopwatch.GetTimestamp();
        var allocatedAfter = GC.GetAllocatedBytesForCurrentThread();
        var sample = new RoundSample(
            benchCase.OperationsPerRound,
            end - start,
            allocatedAfter - allocated,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2);
        benchCase.AfterRound?.Invoke();
        return sample;
    }
}

/// <summary>
/// Synchronous completion of value tasks in single-threaded loops, without allocating when the
/// task has already completed (the common case the benchmarks measure).
/// </summary>
public static class Sync
{
    /// <summary>Waits for <paramref name="task"/>; free when it has already completed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Complete(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The result of a value task that must already have completed: in a single-threaded
    /// loop, nobody else could ever complete it, so waiting would hang.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Completed<T>(ValueTask<T> task, string what) =>
        task.IsCompletedSuccessfully ? task.Result : throw NotCompleted(what);

    private static InvalidOperationException NotCompleted(string what) =>
        new($"Benchmark is broken: {what} did not complete synchronously (no message was there).");
}
