using System.Globalization;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>The measured bursts of one <see cref="BroadcastCase"/>, or why it did not run.</summary>
internal sealed record CaseResult(BroadcastCase Case, IReadOnlyList<BurstResult> Bursts, string? NotRun)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public long Expected => Bursts.Sum(static b => b.Expected);

    public long Delivered => Bursts.Sum(static b => b.Delivered);

    public long Lost => Expected - Delivered;

    public double LostPercent => Expected == 0 ? double.NaN : 100.0 * Lost / Expected;

    /// <summary>Deliveries/s of the median round (by rate).</summary>
    public double DeliveriesPerSecond => Median(static b => b.DeliveriesPerSecond);

    public double ServerCpuUsPerDelivery => Median(static b => b.ServerCpuUsPerDelivery);

    public double RedisCpuUsPerDelivery => Median(static b => b.RedisCpu.TotalMilliseconds * 1000 / Math.Max(b.Delivered, 1));

    /// <summary>Latency percentile over every delivery of every measured round, in ms.</summary>
    public double LatencyMs(double p)
    {
        var all = Bursts.SelectMany(static b => b.Latencies).ToArray();
        Array.Sort(all);
        return LatencyScenario.Percentile(all, p);
    }

    /// <summary>The results as a Markdown table (also what the console prints).</summary>
    public static IEnumerable<string> Table(IReadOnlyList<CaseResult> results)
    {
        yield return "| case | framework | servers | layer | load | delivered / expected | lost | deliveries/s | p50 ms | p99 ms | server CPU µs/delivery | redis CPU µs/delivery |";
        yield return "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|";
        foreach (var r in results)
        {
            var head = $"| {r.Case.Id} | {r.Case.Label} | {r.Case.Servers} | {r.Case.Layer} | {r.Case.Load.Clients} cl., {r.Case.Load.Senders}x{r.Case.Load.PerSender}";
            yield return r.NotRun is not null
                ? $"{head} | {r.NotRun} | | | | | | |"
                : string.Create(Inv, $"{head} | {r.Delivered:N0} / {r.Expected:N0} | {r.Lost:N0} ({r.LostPercent:F2} %) | {Report.Rate(r.DeliveriesPerSecond)} | {LatencyScenario.Ms(r.LatencyMs(0.50))} | {LatencyScenario.Ms(r.LatencyMs(0.99))} | {r.ServerCpuUsPerDelivery:F2} | {(r.Case.Framework.NeedsRedis() ? r.RedisCpuUsPerDelivery.ToString("F2", Inv) : "-")} |");
        }
    }

    private double Median(Func<BurstResult, double> value)
    {
        var sorted = Bursts.Select(value).Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
