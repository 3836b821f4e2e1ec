using System.Diagnostics;
using System.Globalization;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// d) Latency at a paced <see cref="DeliveriesPerSecond"/> deliveries/s: the same room and clients as c), one message
/// every 1/(rate/clients) s, the senders taking turns. Measured in <see cref="Slices"/> one-second slices per framework,
/// alternating between the frameworks (A B B A ...) so that a busy neighbour on the shared machine hits both alike,
/// after a one-slice warm-up each. Latency = receive time − the timestamp taken just before the send, for every
/// delivery to every client (sender included), on one machine-wide monotonic clock.
/// </summary>
internal static class LatencyScenario
{
    public const double DeliveriesPerSecond = 2_000;
    public const int Slices = 5;
    public const double SliceSeconds = 1;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    public static async Task<ScenarioOutcome> RunAsync(Room channels, Room signalR, TextWriter progress)
    {
        Room[] rooms = [channels, signalR];
        foreach (var room in rooms)
        {
            await RunSliceAsync(room, record: false);
        }

        var slices = rooms.ToDictionary(static r => r.Framework, static _ => new List<PacedSlice>());
        for (var i = 0; i < Slices * 2; i++)
        {
            var room = i % 4 is 0 or 3 ? channels : signalR;
            slices[room.Framework].Add(await RunSliceAsync(room, record: true));
        }

        var results = rooms.Select(room => (Room: room, Result: PacedResult.From(slices[room.Framework]))).ToList();
        foreach (var (room, result) in results)
        {
            progress.WriteLine($"  {room.Framework.Label(),-12} {result.Delivered:N0}/{result.Expected:N0} deliveries at {result.AchievedRate:F0}/s: " +
                $"p50 {Ms(result.P50)} ms, p99 {Ms(result.P99)} ms, max {Ms(result.Max)} ms");
        }

        var outcome = new ScenarioOutcome(
            "d",
            $"delivery latency at a paced {DeliveriesPerSecond:N0} deliveries/s ({DeliveriesPerSecond / BroadcastLoad.Full.Clients:F0} msg/s to {BroadcastLoad.Full.Clients} clients; {Slices} x {SliceSeconds:F0} s per framework, interleaved)",
            []);
        outcome.Ratios.Add($"{"",-13}{"p50 ms",9}{"p90 ms",9}{"p99 ms",9}{"max ms",9}{"mean ms",9}{"samples",9}{"rate/s",9}");
        foreach (var (room, r) in results)
        {
            outcome.Ratios.Add($"{room.Framework.Label(),-13}{Ms(r.P50),9}{Ms(r.P90),9}{Ms(r.P99),9}{Ms(r.Max),9}{Ms(r.Mean),9}{r.Samples,9:N0}{r.AchievedRate,9:F0}");
        }

        var c = results[0].Result;
        var s = results[1].Result;
        outcome.Ratios.Add($"Channels.Net / SignalR latency: p50 {Report.Ratio(c.P50 / s.P50)}, p99 {Report.Ratio(c.P99 / s.P99)}; lost: {c.Expected - c.Delivered} vs {s.Expected - s.Delivered}");
        outcome.Targets.Add(new TargetCheck(
            $"Channels.Net loses nothing at {DeliveriesPerSecond:N0} deliveries/s",
            c.Delivered == c.Expected,
            $"{c.Delivered:N0} of {c.Expected:N0} delivered"));
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
