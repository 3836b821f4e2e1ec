using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Channels.Net.Benchmarks.Harness;

/// <summary>A target a scenario states, and whether this run met it.</summary>
public sealed record TargetCheck(string Description, bool Met, string Measured);

/// <summary>What one scenario produced: its rows, the ratios it derives and its targets.</summary>
public sealed record ScenarioOutcome(string Id, string Title, IReadOnlyList<BenchResult> Results)
{
    public List<string> Ratios { get; } = [];

    public List<TargetCheck> Targets { get; } = [];
}

/// <summary>Plain-text output: environment header, results table, ratios and targets.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void PrintEnvironment(TextWriter output, HarnessSettings settings)
    {
        output.WriteLine($"Date (UTC):   {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", Inv)}");
        output.WriteLine($"Runtime:      {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}), {RuntimeInformation.OSDescription}");
        output.WriteLine($"CPU:          {CpuModel()} x {Environment.ProcessorCount} logical");
        output.WriteLine($"Clock read:   Stopwatch.GetTimestamp() costs {Ns(MeasureClockReadNs())} ns here (the in-memory layer uses the cheaper coarse tick, Environment.TickCount64, on the system clock)");
        output.WriteLine($"GC:           {(GCSettings.IsServerGC ? "server" : "workstation")}, latency {GCSettings.LatencyMode}");
        output.WriteLine($"Harness:      {settings.Rounds} measured rounds (median reported), warm-up >= {settings.MinWarmupRounds} rounds and >= {settings.MinWarmupTime.TotalMilliseconds:F0} ms per case, forced GC before rounds: {settings.ForceGcBeforeRound}");
#if DEBUG
        output.WriteLine("WARNING:      Debug build - numbers are meaningless; use -c Release.");
#endif
    }

    public static void PrintTable(TextWriter output, IReadOnlyList<ScenarioOutcome> outcomes)
    {
        var header = new[] { "Scenario", "Case", "Unit", "Median ns/unit", "Min..max ns/unit", "Units/s (median)", "B/unit", "GC 0/1/2" };
        var rows = new List<string[]>();
        foreach (var outcome in outcomes)
        {
            foreach (var r in outcome.Results)
            {
                rows.Add(
                [
                    outcome.Id,
                    r.Case.Name + (r.Case.IsBaseline ? " (baseline)" : ""),
                    r.Case.Unit,
                    Ns(r.MedianNsPerOp),
                    $"{Ns(r.MinNsPerOp)}..{Ns(r.MaxNsPerOp)}",
                    Rate(r.OpsPerSecond),
                    Bytes(r.BytesPerOp),
                    $"{r.Gen0}/{r.Gen1}/{r.Gen2}",
                ]);
            }
        }

        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(row => row[i].Length))).ToArray();
        var numeric = new[] { false, false, false, true, true, true, true, true };
        string Line(string[] cells) =>
            "| " + string.Join(" | ", cells.Select((c, i) => numeric[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))) + " |";

        output.WriteLine(Line(header));
        output.WriteLine("|" + string.Join("|", widths.Select((w, i) => numeric[i] ? new string('-', w + 1) + ":" : new string('-', w + 2))) + "|");
        foreach (var row in rows)
        {
            output.WriteLine(Line(row));
        }
    }

    public static void PrintRatiosAndTargets(TextWriter output, IReadOnlyList<ScenarioOutcome> outcomes)
    {
        foreach (var outcome in outcomes)
        {
            output.WriteLine($"{outcome.Id}) {outcome.Title}");
            foreach (var ratio in outcome.Ratios)
            {
                output.WriteLine($"     {ratio}");
            }

            foreach (var target in outcome.Targets)
            {
                output.WriteLine($"     [{(target.Met ? "MET" : "MISSED")}] {target.Description}: {target.Measured}");
            }
        }
    }

    public static string Ns(double ns) => ns.ToString(ns >= 100 ? "F0" : "F1", Inv);

    public static string Bytes(double bytes) => bytes.ToString(bytes is > 0 and < 0.01 ? "0.####" : "0.##", Inv);

    public static string Ratio(double ratio) => ratio.ToString("F2", Inv) + "x";

    public static string Rate(double perSecond) => perSecond switch
    {
        >= 1e9 => (perSecond / 1e9).ToString("F2", Inv) + " G",
        >= 1e6 => (perSecond / 1e6).ToString("F2", Inv) + " M",
        >= 1e3 => (perSecond / 1e3).ToString("F2", Inv) + " k",
        _ => perSecond.ToString("F0", Inv),
    };

    /// <summary>Cost of one high-resolution clock read (best of several batches): it varies a lot between
    /// machines (TSC vs a paravirtual clock) and shows up directly in per-message costs.</summary>
    private static double MeasureClockReadNs()
    {
        const int reads = 200_000;
        var best = double.MaxValue;
        long sink = 0;
        for (var batch = 0; batch < 7; batch++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < reads; i++)
            {
                sink += Stopwatch.GetTimestamp();
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / reads);
        }

        GC.KeepAlive(sink);
        return best;
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
