using System.Diagnostics;
using System.Globalization;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Broadcast;
using Channels.Net.Benchmarks.Suites;

namespace Channels.Net.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project benchmarks/Channels.Net.Benchmarks -- &lt;suite&gt; [options]</c>.
/// </summary>
public static class Program
{
    /// <summary>The subcommands. Later suites (Redis layer, ...) go here.</summary>
    private static readonly IBenchmarkSuite[] Suites =
    [
        new InMemorySuite(),
        new BroadcastSuite(),
        new RedisSuite(),
        new CiphersSuite(),
        new MsgpackSuite(),
    ];

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == BroadcastServer.Command)
        {
            // Hidden: the broadcast suite starts its servers as child processes of this executable.
            return await BroadcastServer.RunAsync(args[1..]);
        }

        if (args.Length == 0 || args[0] is "-h" or "--help" or "help" or "list")
        {
            PrintHelp();
            return args.Length == 0 ? 1 : 0;
        }

        var selected = args[0] == "all"
            ? Suites
            : Suites.Where(s => string.Equals(s.Name, args[0], StringComparison.OrdinalIgnoreCase)).ToArray();
        if (selected.Length == 0)
        {
            await Console.Error.WriteLineAsync($"Unknown suite '{args[0]}'.");
            PrintHelp();
            return 2;
        }

        HarnessSettings settings;
        try
        {
            settings = ParseOptions(args.AsSpan(1));
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            PrintHelp();
            return 2;
        }

        var output = Console.Out;
        Report.PrintEnvironment(output, settings);
        output.WriteLine();

        var started = Stopwatch.GetTimestamp();
        var outcomes = new List<ScenarioOutcome>();
        foreach (var suite in selected)
        {
            outcomes.AddRange(await suite.RunAsync(settings, output));
        }

        output.WriteLine();
        Report.PrintTable(output, outcomes);
        output.WriteLine();
        Report.PrintRatiosAndTargets(output, outcomes);
        output.WriteLine();
        output.WriteLine($"Total run time: {Stopwatch.GetElapsedTime(started).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
        return 0;
    }

    private static HarnessSettings ParseOptions(ReadOnlySpan<string> options)
    {
        var settings = new HarnessSettings();
        for (var i = 0; i < options.Length; i++)
        {
            static string Value(ReadOnlySpan<string> o, ref int index) =>
                index + 1 < o.Length ? o[++index] : throw new FormatException($"Option '{o[index]}' needs a value.");

            switch (options[i])
            {
                case "--rounds":
                    settings = settings with { Rounds = PositiveInt(Value(options, ref i), "--rounds") };
                    break;
                case "--warmup-ms":
                    settings = settings with { MinWarmupTime = TimeSpan.FromMilliseconds(PositiveInt(Value(options, ref i), "--warmup-ms")) };
                    break;
                case "--no-gc":
                    settings = settings with { ForceGcBeforeRound = false };
                    break;
                case "--broadcast-rounds":
                    settings = settings with { BroadcastRounds = PositiveInt(Value(options, ref i), "--broadcast-rounds") };
                    break;
                case "--idle-connections":
                    settings = settings with { IdleConnections = PositiveInt(Value(options, ref i), "--idle-connections") };
                    break;
                case "--idle-hold-seconds":
                    settings = settings with { IdleHoldSeconds = PositiveInt(Value(options, ref i), "--idle-hold-seconds") };
                    break;
                case "--scenarios":
                    var letters = Value(options, ref i);
                    settings = letters.Length > 0 && letters.All(static c => c is 'c' or 'd' or 'e')
                        ? settings with { BroadcastScenarios = letters }
                        : throw new FormatException($"Option '--scenarios' takes letters among c, d and e, not '{letters}'.");
                    break;
                case "--cases":
                    var cases = Value(options, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    settings = cases.Length > 0 && cases.All(static c => System.Text.RegularExpressions.Regex.IsMatch(c, "^(a[1-4]e?|b([1-9]|1[0-2]))$"))
                        ? settings with { RedisCases = cases.ToHashSet(StringComparer.Ordinal) }
                        : throw new FormatException($"Option '--cases' takes a comma-separated list of redis case ids (a1, a1e, … a4e, b1 … b12), not '{string.Join(',', cases)}'.");
                    break;
                case "--layer-capacity":
                    settings = settings with { LayerCapacity = PositiveInt(Value(options, ref i), "--layer-capacity") };
                    break;
                case "--frameworks":
                    settings = settings with { BroadcastCases = Value(options, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal) };
                    break;
                case "--latency-pairs":
                    var pairs = Value(options, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                    var knownPairs = LatencyPair.All.Select(static p => p.Id).ToHashSet(StringComparer.Ordinal);
                    settings = pairs.Count > 0 && pairs.IsSubsetOf(knownPairs)
                        ? settings with { LatencyPairs = pairs }
                        : throw new FormatException($"Option '--latency-pairs' takes a comma-separated list of pairs among {string.Join(", ", knownPairs)}; not '{string.Join(',', pairs)}'.");
                    break;
                case "--interleave":
                    settings = settings with { Interleave = true };
                    break;
                case "--svg":
                    settings = settings with { SvgPath = Value(options, ref i) };
                    break;
                default:
                    throw new FormatException($"Unknown option '{options[i]}'.");
            }
        }

        if (settings.BroadcastCases is { } selected)
        {
            var known = BroadcastCase.All(settings.LayerCapacity).Select(static c => c.Id).ToHashSet(StringComparer.Ordinal);
            if (selected.Count == 0 || !selected.IsSubsetOf(known))
            {
                throw new FormatException(selected.Contains("channels-inmemory-tuned") && settings.LayerCapacity is null
                    ? "Case 'channels-inmemory-tuned' needs '--layer-capacity N'."
                    : $"Option '--frameworks' takes a comma-separated list of cases among {string.Join(", ", known)}; not '{string.Join(',', selected)}'.");
            }
        }

        return settings;
    }

    private static int PositiveInt(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new FormatException($"Option '{option}' needs a positive integer, not '{text}'.");

    private static void PrintHelp()
    {
        Console.WriteLine("Usage: dotnet run -c Release --project benchmarks/Channels.Net.Benchmarks -- <suite|all> [options]");
        Console.WriteLine();
        Console.WriteLine("Suites:");
        foreach (var suite in Suites)
        {
            Console.WriteLine($"  {suite.Name,-12} {suite.Description}");
        }

        Console.WriteLine();
        Console.WriteLine("Options:");
        Console.WriteLine("  --rounds N      measured rounds per case (default 21; the median is reported)");
        Console.WriteLine("  --warmup-ms N   minimum warm-up time per case in ms (default 600)");
        Console.WriteLine("  --no-gc         do not force a full GC before each round");
        Console.WriteLine("  --broadcast-rounds N  broadcast: measured burst rounds per framework (default 3)");
        Console.WriteLine("  --idle-connections N  broadcast: idle connections for the memory measure (default 5000)");
        Console.WriteLine("  --layer-capacity N    broadcast: also run the in-memory case with this capacity, labelled \"tuned\" (the default case keeps 100, Django's)");
        Console.WriteLine($"  --frameworks a,b      broadcast: run only these burst cases: {string.Join(", ", BroadcastCase.All(1).Select(static c => c.Id))}");
        Console.WriteLine($"  --latency-pairs a,b   broadcast: run only these d) pairs (Channels.Net on a layer vs SignalR): {string.Join(", ", LatencyPair.All.Select(static p => p.Id))}");
        Console.WriteLine("  --svg PATH            broadcast: write the burst results as an SVG bar chart to PATH");
        Console.WriteLine("  --scenarios cde       broadcast: run only these scenarios (c burst, d latency, e idle memory)");
        Console.WriteLine("  --cases b9,b10        redis: run only these cases (a1, a1e, … a4e, b1 … b12); the ceiling always runs");
        Console.WriteLine("  --idle-hold-seconds N broadcast: pause N s at the memory measure's before/after points (to inspect the server)");
    }
}
