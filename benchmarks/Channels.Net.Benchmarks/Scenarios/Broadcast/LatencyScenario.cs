using System.Diagnostics;
using System.Globalization;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// One comparison of d): Channels.Net on a layer against SignalR on the matching scale-out (in-process groups for the
/// in-memory layer, its Redis backplane for the Redis layers), each side one server of a c) case (<see cref="BroadcastCase"/>).
/// </summary>
/// <param name="Id">The name <c>--latency-pairs</c> selects it by.</param>
/// <param name="Layer">The layer the target line names.</param>
internal sealed record LatencyPair(string Id, string Layer, BroadcastCase Channels, BroadcastCase SignalR)
{
    /// <summary>Every pair, in the order they run: the in-memory pair first (the comparison d) has always made).</summary>
    public static IReadOnlyList<LatencyPair> All { get; } = Make(
        ("inmemory", "in-memory", "channels-inmemory", "signalr"),
        ("redis", "Redis", "channels-redis", "signalr-redis"),
        ("pubsub", "RedisPubSub", "channels-pubsub", "signalr-redis"));

    public bool NeedsRedis => Channels.Framework.NeedsRedis() || SignalR.Framework.NeedsRedis();

    private static LatencyPair[] Make(params (string Id, string Layer, string Channels, string SignalR)[] pairs)
    {
        var cases = BroadcastCase.All(tunedCapacity: null).ToDictionary(static c => c.Id, StringComparer.Ordinal);
        return [.. pairs.Select(p => new LatencyPair(p.Id, p.Layer, cases[p.Channels], cases[p.SignalR]))];
    }
}

/// <summary>
/// d) Latency at a paced <see cref="DeliveriesPerSecond"/> deliveries/s, per <see cref="LatencyPair"/>, one pair after
/// another, each on fresh servers (one per side; the Redis flushed first) with the same room and clients as c), warmed
/// up with <see cref="ThroughputScenario.WarmupBursts"/> full bursts per side. One message every 1/(rate/clients) s, the
/// senders taking turns. Measured in <see cref="Slices"/> one-second slices per side, alternating between the two
/// sides of the pair (A B B A ...) so that a busy neighbour on the shared machine hits both alike, after a one-slice
/// warm-up each. Latency = receive time − the timestamp taken just before the send, for every delivery to every
/// client (sender included), on one machine-wide monotonic clock.
/// </summary>
internal static class LatencyScenario
{
    public const double DeliveriesPerSecond = 2_000;
    public const int Slices = 5;
    public const double SliceSeconds = 1;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    /// <param name="redis">The suite's redis-server, or null: the pairs that need one are "not run: <paramref name="redisMissing"/>".</param>
    public static async Task<ScenarioOutcome> RunAsync(IReadOnlyList<LatencyPair> pairs, RedisServerProcess? redis, string redisMissing, TextWriter progress)
    {
        var results = new List<PairResult>();
        foreach (var pair in pairs)
        {
            progress.WriteLine($"d) [{pair.Id}] {pair.Channels.Label} ({pair.Channels.Layer}) vs {pair.SignalR.Label} ({pair.SignalR.Layer}), {BroadcastLoad.Full.Clients} clients each");
            var result = pair.NeedsRedis && redis is null
                ? new PairResult(pair, null, null, $"not run: {redisMissing}")
                : await RunPairAsync(pair, redis, progress);
            if (result.NotRun is not null)
            {
                progress.WriteLine($"    {result.NotRun}");
            }

            results.Add(result);
        }

        return Outcome(results);
    }

    private static async Task<PairResult> RunPairAsync(LatencyPair pair, RedisServerProcess? redis, TextWriter progress)
    {
        if (pair.NeedsRedis)
        {
            await redis!.FlushAllAsync(); // once for the pair: both sides share the Redis from here on
        }

        await using var channels = await CaseRoom.StartAsync(pair.Channels, redis, ThroughputScenario.RoomName, progress);
        if (channels.NotRun is { } channelsNotRun)
        {
            return new PairResult(pair, null, null, channelsNotRun);
        }

        await using var signalR = await CaseRoom.StartAsync(pair.SignalR, redis, ThroughputScenario.RoomName, progress);
        if (signalR.NotRun is { } signalRNotRun)
        {
            return new PairResult(pair, null, null, signalRNotRun);
        }

        Room[] rooms = [channels.Room!, signalR.Room!];
        try
        {
            progress.WriteLine($"    warm-up: {ThroughputScenario.WarmupBursts} bursts per side ...");
            for (var w = 0; w < ThroughputScenario.WarmupBursts; w++)
            {
                foreach (var room in rooms)
                {
                    await BurstRound.RunAsync(room, BroadcastLoad.Full, redisCpu: null);
                }
            }

            progress.WriteLine($"    latency at {DeliveriesPerSecond:N0} deliveries/s ...");
            var (c, s) = await MeasureAsync(rooms[0], rooms[1]);
            foreach (var (room, result) in new[] { (rooms[0], c), (rooms[1], s) })
            {
                progress.WriteLine($"    {room.Framework.Label(),-20} {result.Delivered:N0}/{result.Expected:N0} deliveries at {result.AchievedRate:F0}/s: " +
                    $"p50 {Ms(result.P50)} ms, p99 {Ms(result.P99)} ms, max {Ms(result.Max)} ms");
            }

            return new PairResult(pair, c, s, null);
        }
        catch (Exception ex) when (ThroughputScenario.IsServerFailure(ex))
        {
            return new PairResult(pair, null, null, $"failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>One warm-up slice per room, then <see cref="Slices"/> measured slices each, A B B A ...</summary>
    private static async Task<(PacedResult A, PacedResult B)> MeasureAsync(Room a, Room b)
    {
        await RunSliceAsync(a, record: false);
        await RunSliceAsync(b, record: false);
        var slicesA = new List<PacedSlice>();
        var slicesB = new List<PacedSlice>();
        for (var i = 0; i < Slices * 2; i++)
        {
            if (i % 4 is 0 or 3)
            {
                slicesA.Add(await RunSliceAsync(a, record: true));
            }
            else
            {
                slicesB.Add(await RunSliceAsync(b, record: true));
            }
        }

        return (PacedResult.From(slicesA), PacedResult.From(slicesB));
    }

    private static ScenarioOutcome Outcome(IReadOnlyList<PairResult> results)
    {
        var outcome = new ScenarioOutcome(
            "d",
            $"delivery latency at a paced {DeliveriesPerSecond:N0} deliveries/s ({DeliveriesPerSecond / BroadcastLoad.Full.Clients:F0} msg/s to {BroadcastLoad.Full.Clients} clients; " +
            $"per pair {Slices} x {SliceSeconds:F0} s per side, interleaved; pairs: {string.Join(", ", results.Select(static r => r.Pair.Id))})",
            []);
        outcome.Ratios.Add($"{"pair",-9}{"",-21}{"p50 ms",9}{"p90 ms",9}{"p99 ms",9}{"max ms",9}{"mean ms",9}{"samples",9}{"rate/s",8}  delivered / expected");
        foreach (var r in results)
        {
            if (r.NotRun is not null)
            {
                outcome.Ratios.Add($"{r.Pair.Id,-9}{r.Pair.Channels.Label} vs {r.Pair.SignalR.Label}: {r.NotRun}");
                continue;
            }

            foreach (var (label, p) in new[] { (r.Pair.Channels.Label, r.Channels!), (r.Pair.SignalR.Label, r.SignalR!) })
            {
                outcome.Ratios.Add($"{r.Pair.Id,-9}{label,-21}{Ms(p.P50),9}{Ms(p.P90),9}{Ms(p.P99),9}{Ms(p.Max),9}{Ms(p.Mean),9}{p.Samples,9:N0}{p.AchievedRate,8:F0}  {p.Delivered:N0} / {p.Expected:N0}");
            }
        }

        foreach (var r in results.Where(static r => r.NotRun is null))
        {
            var (c, s) = (r.Channels!, r.SignalR!);
            outcome.Ratios.Add($"{r.Pair.Id}: Channels.Net / SignalR latency ({r.Pair.Layer}): p50 {Report.Ratio(c.P50 / s.P50)}, p99 {Report.Ratio(c.P99 / s.P99)}; lost: {c.Expected - c.Delivered} vs {s.Expected - s.Delivered}");
            outcome.Targets.Add(new TargetCheck(
                $"Channels.Net p99 <= SignalR p99 ({r.Pair.Layer})",
                c.P99 <= s.P99,
                $"{Ms(c.P99)} vs {Ms(s.P99)} ms ({Report.Ratio(c.P99 / s.P99)})"));
            outcome.Targets.Add(new TargetCheck(
                $"Channels.Net loses nothing at {DeliveriesPerSecond:N0} deliveries/s ({r.Pair.Layer})",
                c.Delivered == c.Expected,
                $"{c.Delivered:N0} of {c.Expected:N0} delivered"));
        }

        return outcome;
    }

    private static async Task<PacedSlice> RunSliceAsync(Room room, bool record)
    {
        var clients = room.Clients;
        var messagesPerSecond = DeliveriesPerSecond / clients.Count;
        var messages = (int)Math.Round(SliceSeconds * messagesPerSecond);
        var interval = Stopwatch.Frequency / messagesPerSecond;
        var senders = Math.Min(BroadcastLoad.Full.Senders, clients.Count);
        var round = room.NextRound();
        var done = room.Tracker.Begin(round, messages, clients, record ? messages * clients.Count : 0);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(SliceSeconds) + DrainTimeout);

        var start = Stopwatch.GetTimestamp();
        var lastSend = start;
        for (var k = 0; k < messages; k++)
        {
            var due = start + (long)(k * interval);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, stop.Token);
            }

            var sender = k % senders;
            lastSend = Stopwatch.GetTimestamp();
            await clients[sender].SendAsync(BroadcastMessage.Create(round, sender, k / senders, lastSend), stop.Token);
        }

        try
        {
            await done.WaitAsync(DrainTimeout);
        }
        catch (TimeoutException)
        {
            // Reported as lost.
        }

        // The rate the pacer achieved: deliveries over the send schedule's span (one interval per message).
        return new PacedSlice(
            Expected: (long)messages * clients.Count,
            Delivered: clients.Sum(static c => (long)c.Received),
            Latencies: room.Tracker.Latencies.ToArray(),
            Seconds: Stopwatch.GetElapsedTime(start, lastSend).TotalSeconds + (1 / messagesPerSecond));
    }

    /// <summary>The p-quantile of sorted Stopwatch-tick latencies, in ms (NaN for none).</summary>
    internal static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : ToMs(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)]);

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    internal static string Ms(double ms) => ms.ToString(ms >= 10 ? "F1" : "F3", CultureInfo.InvariantCulture);

    /// <summary>A pair's two sides, or why the pair did not run.</summary>
    private sealed record PairResult(LatencyPair Pair, PacedResult? Channels, PacedResult? SignalR, string? NotRun);

    private sealed record PacedSlice(long Expected, long Delivered, long[] Latencies, double Seconds);

    private sealed record PacedResult(long Expected, long Delivered, int Samples, double AchievedRate, double P50, double P90, double P99, double Max, double Mean)
    {
        public static PacedResult From(List<PacedSlice> slices)
        {
            var latencies = slices.SelectMany(static s => s.Latencies).ToArray();
            Array.Sort(latencies);
            var delivered = slices.Sum(static s => s.Delivered);
            return new PacedResult(
                Expected: slices.Sum(static s => s.Expected),
                Delivered: delivered,
                Samples: latencies.Length,
                AchievedRate: delivered / Math.Max(1e-9, slices.Sum(static s => s.Seconds)),
                P50: Percentile(latencies, 0.50),
                P90: Percentile(latencies, 0.90),
                P99: Percentile(latencies, 0.99),
                Max: latencies.Length == 0 ? double.NaN : ToMs(latencies[^1]),
                Mean: latencies.Length == 0 ? double.NaN : ToMs((long)latencies.Average()));
        }
    }
}
