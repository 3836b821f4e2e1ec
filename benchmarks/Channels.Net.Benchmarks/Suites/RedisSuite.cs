using System.Diagnostics;
using System.Globalization;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Redis;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>
/// Our RedisChannelLayer beside Django's channels_redis RedisChannelLayer (run by /usr/bin/python3) on
/// one redis-server the suite starts itself: send+receive, group_send fan-out, Redis commands per
/// delivery, and redis-benchmark's ZADD rate on the same server as the ceiling.
/// </summary>
public sealed class RedisSuite : IBenchmarkSuite
{
    /// <summary>Measured rounds at most (fewer with --rounds): .NET rounds are short, Python's are not.</summary>
    private const int MaxOursRounds = 7;

    private const int MaxPythonRounds = 3;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>(members, messages) of the fan-out scenarios.</summary>
    private static readonly (int Members, int Messages)[] FanOuts = [(100, 200), (1_000, 20)];

    /// <summary>
    /// Fan-out with the members on one layer (one process) that also sends, then spread over ten (ten processes'
    /// worth), then on one layer with another layer sending (every delivery through Redis).
    /// </summary>
    private static readonly (int Layers, bool SeparateSender)[] FanOutLayers = [(1, false), (10, false), (1, true)];

    public string Name => "redis";

    public string Description => "RedisChannelLayer vs Python channels_redis on one redis-server: send+receive (sequential and streamed), group_send fan-out, commands/delivery, ZADD ceiling";

    public async Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress)
    {
        var oursRounds = Math.Min(settings.Rounds, MaxOursRounds);
        var pythonRounds = Math.Min(settings.Rounds, MaxPythonRounds);
        var started = Stopwatch.GetTimestamp();

        await using var server = await RedisServerProcess.StartAsync();
        await using var python = await PythonPeer.StartAsync(server.Url, RedisBench.PythonTimeout);
        RedisBench.PythonLabel = $"{python.ChannelsRedisVersion} (Python {python.Versions.Split(',')[0]["Python ".Length..]})";
        progress.WriteLine($"redis: redis-server {server.Version} on 127.0.0.1:{server.Port} (--save \"\" --appendonly no); peer: {python.Versions}");
        progress.WriteLine($"redis: {oursRounds} measured rounds for .NET, {pythonRounds} for Python (median reported), interleaved; process-wide allocation for .NET");
        progress.WriteLine($"redis: load average at start {LoadAverage()} (2 cores: anything near or above 2 slows the latency-bound .NET side more than CPU-bound Python)");

        progress.WriteLine("d) redis-benchmark ZADD on the same server ...");
        var pipelined = await RedisBench.RedisBenchmarkZaddAsync(server.Port, requests: 200_000, clients: 50, pipeline: 16);
        var oneClient = await RedisBench.RedisBenchmarkZaddAsync(server.Port, requests: 10_000, clients: 1, pipeline: 1);
        await server.FlushAllAsync();

        var outcomes = new List<ScenarioOutcome>();
        var commandLines = new List<string>();
        double bestSequentialPlain = 0;
        double bestStreamedPlain = 0;
        double bestFanOut = 0;
        string bestFanOutId = "";
        double bestWrites = 0;
        string bestWritesId = "";
        foreach (var local in new[] { false, true })
        {
            foreach (var encrypted in new[] { false, true })
            {
                if (!Wanted(settings, (local ? "a2" : "a1") + (encrypted ? "e" : "")))
                {
                    continue;
                }

                await using var scenario = await RedisSendReceiveScenario.CreateAsync(server, python, local, encrypted);
                progress.WriteLine($"{scenario.Id}) {scenario.Title} ...");
                var results = await RedisRunner.RunAsync(scenario.Cases(oursRounds, pythonRounds, settings), server, progress);
                var outcome = Outcome(scenario.Id, scenario.Title, results, "msg", RedisSendReceiveScenario.MinSpeedup, commandLines, membersPerMessage: 0);
                if (local)
                {
                    outcome.Ratios.Add("ours: the first message goes through Redis and starts the receive pump; once the pump has drained the key, sends to the layer's own channel are handed over in-process");
                }

                outcomes.Add(outcome);
                if (!local)
                {
                    bestSequentialPlain = Math.Max(bestSequentialPlain, results[0].Result.OpsPerSecond);
                }

                await server.FlushAllAsync();
            }
        }

        foreach (var local in new[] { false, true })
        {
            foreach (var encrypted in new[] { false, true })
            {
                if (!Wanted(settings, (local ? "a4" : "a3") + (encrypted ? "e" : "")))
                {
                    continue;
                }

                await using var scenario = await RedisStreamScenario.CreateAsync(server, python, local, encrypted);
                progress.WriteLine($"{scenario.Id}) {scenario.Title} ...");
                var results = await RedisRunner.RunAsync(scenario.Cases(oursRounds, pythonRounds, settings), server, progress);
                outcomes.Add(Outcome(scenario.Id, scenario.Title, results, "msg", RedisSendReceiveScenario.MinSpeedup, commandLines, membersPerMessage: 0));
                if (!local)
                {
                    bestStreamedPlain = Math.Max(bestStreamedPlain, results[0].Result.OpsPerSecond);
                }

                await server.FlushAllAsync();
            }
        }

        var index = 0;
        foreach (var (layers, separateSender) in FanOutLayers)
        {
            foreach (var (members, messages) in FanOuts)
            {
                foreach (var encrypted in new[] { false, true })
                {
                    index++;
                    var id = "b" + index.ToString(Inv);
                    if (!Wanted(settings, id))
                    {
                        continue;
                    }

                    await using var scenario = await RedisFanOutScenario.CreateAsync(server, python, members, messages, layers, separateSender, encrypted, id);
                    progress.WriteLine($"{id}) {scenario.Title} ...");
                    var results = await RedisRunner.RunAsync(scenario.Cases(oursRounds, pythonRounds, settings), server, progress);
                    var outcome = Outcome(id, scenario.Title, results, "delivery", RedisFanOutScenario.MinSpeedup, commandLines, membersPerMessage: members);
                    if (!separateSender)
                    {
                        outcome.Ratios.Add(layers == 1
                            ? "ours: the sending layer holds every member, so after the one round trip for the members each gets the message in-process"
                            : $"ours: the sending layer holds 1 in {layers} members (in-process); the others' messages go through Redis");
                    }

                    if (layers > 1)
                    {
                        outcome.Ratios.Add($"({layers} layers in this one process stand for {layers} server processes: Redis and the sender do what they would, but all {layers} receive pumps share this process's cores; the same holds for Python's {layers} layers on one event loop)");
                    }

                    var oursGroupSends = results[0].Result.OpsPerSecond / members;
                    var keysThroughRedis = separateSender ? layers : layers - 1; // the sender's own members' key takes it in-process
                    outcome.Ratios.Add(string.Create(
                        Inv,
                        $"ours: {Report.Rate(oursGroupSends)} group_send/s end to end = {Report.Rate(oursGroupSends * keysThroughRedis)} messages written to Redis/s ({keysThroughRedis} key(s) per group_send through Redis)"));
                    outcomes.Add(outcome);
                    if (oursGroupSends * keysThroughRedis > bestWrites)
                    {
                        bestWrites = oursGroupSends * keysThroughRedis;
                        bestWritesId = id;
                    }

                    if (separateSender && results[0].Result.OpsPerSecond > bestFanOut)
                    {
                        bestFanOut = results[0].Result.OpsPerSecond;
                        bestFanOutId = id;
                    }

                    await server.FlushAllAsync();
                }
            }
        }

        commandLines.Add("(requests: commands clients sent, each a round trip unless pipelined; the rest ran inside Lua scripts. Per group_send breakdowns name the commands behind one group_send and its deliveries.)");
        var commands = new ScenarioOutcome("c", "Redis commands per delivered message (INFO commandstats over the measured rounds, commands run inside Lua included; requests = client commands = round trips, from a MONITOR census of a warm-up round)", []);
        commands.Ratios.AddRange(commandLines);
        outcomes.Add(commands);

        outcomes.Add(Ceiling(pipelined, oneClient, bestSequentialPlain, bestStreamedPlain, bestFanOut, bestFanOutId, bestWrites, bestWritesId));
        progress.WriteLine($"redis: suite took {Stopwatch.GetElapsedTime(started).TotalSeconds.ToString("F1", Inv)} s; load average at end {LoadAverage()}");
        return outcomes;
    }

    /// <param name="membersPerMessage">0 for send+receive; the group size for fan-out (command breakdowns are then per group_send).</param>
    private static ScenarioOutcome Outcome(string id, string title, IReadOnlyList<RedisCaseResult> results, string unit, double minSpeedup, List<string> commandLines, int membersPerMessage)
    {
        var ours = results[0];
        var py = results[1];
        var units = unit == "delivery" ? "deliveries" : unit + "s";
        var speedup = ours.Result.OpsPerSecond / py.Result.OpsPerSecond;
        var outcome = new ScenarioOutcome(id, title, [ours.Result, py.Result]);
        outcome.Ratios.Add($"{units}/s: ours {Report.Rate(ours.Result.OpsPerSecond)}, Python {Report.Rate(py.Result.OpsPerSecond)}; ours / Python: {Report.Ratio(speedup)}");
        if (membersPerMessage > 0)
        {
            outcome.Ratios.Add(string.Create(
                Inv,
                $"median round: ours {ours.Result.MedianNsPerOp * ours.Result.Case.OperationsPerRound / 1e6:F1} ms (the last group_send returned after {ours.MedianPhaseMs:F1} ms), Python {py.Result.MedianNsPerOp * py.Result.Case.OperationsPerRound / 1e6:F1} ms (after {py.MedianPhaseMs:F1} ms)"));
        }

        outcome.Ratios.Add(string.Create(
            Inv,
            $"Redis commands per {unit}: ours {ours.CommandsPerOp:F3} ({ours.RequestsPerOp:F3} requests + {ours.ScriptCommandsPerOp:F3} inside Lua), Python {py.CommandsPerOp:F3} ({py.RequestsPerOp:F3} requests + {py.ScriptCommandsPerOp:F3} inside Lua)"));
        outcome.Ratios.Add($"ours allocated {Report.Bytes(ours.Result.BytesPerOp)} B per {unit} (whole process: pumps and Redis client included); the Python rows' B and GC columns are not measured");
        outcome.Targets.Add(new TargetCheck($"ours >= {minSpeedup.ToString("F0", Inv)}x Python's {units}/s", speedup >= minSpeedup, $"{Report.Ratio(speedup)}"));

        var per = membersPerMessage > 0 ? membersPerMessage : 1;
        var perWhat = membersPerMessage > 0 ? "group_send" : "msg";
        foreach (var (label, r) in new[] { ("ours", ours), ("Python", py) })
        {
            commandLines.Add(string.Create(
                Inv,
                $"{(label == "ours" ? id : ""),-4} {label,-6} {r.CommandsPerOp,6:F3} cmds/{unit}, {r.RequestsPerOp,6:F3} requests/{unit}; per {perWhat}: {r.CommandsPerOp * per:F2} cmds, {r.RequestsPerOp * per:F2} requests = {r.Commands.Breakdown(r.CommandOperations / per)}"));
        }

        return outcome;
    }

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

    private static bool Wanted(HarnessSettings settings, string id) => settings.RedisCases is null || settings.RedisCases.Contains(id);

    private static ScenarioOutcome Ceiling(double pipelined, double oneClient, double bestSequentialPlain, double bestStreamedPlain, double bestFanOut, string bestFanOutId, double bestWrites, string bestWritesId)
    {
        static BenchResult Row(string name, double rate, bool baseline)
        {
            const long requests = 1_000_000;
            var ticks = (long)(requests / rate * Stopwatch.Frequency);
            return new BenchResult(
                new BenchCase(name, "request", requests, static () => { }) { IsBaseline = baseline },
                [new RoundSample(requests, ticks, 0, 0, 0, 0)],
                0);
        }

        var outcome = new ScenarioOutcome(
            "d",
            "the ceiling: redis-benchmark -t zadd on the same server (one run each)",
            [Row("redis-benchmark ZADD, 50 clients, -P 16", pipelined, baseline: true), Row("redis-benchmark ZADD, 1 client, no pipelining", oneClient, baseline: true)]);
        outcome.Ratios.Add($"pipelined ZADD ceiling {Report.Rate(pipelined)}/s; one connection, one request at a time: {Report.Rate(oneClient)}/s (= {Report.Ns(1e9 / oneClient / 1000)} us per round trip)");
        outcome.Ratios.Add(string.Create(
            Inv,
            $"ours best sequential send+receive on a plain channel {Report.Rate(bestSequentialPlain)} msgs/s = {bestSequentialPlain / oneClient * 100:F0}% of the one-connection ZADD rate (a message needs >= 2 sequential round trips: at most 50%)"));
        outcome.Ratios.Add(string.Create(
            Inv,
            $"ours best streamed send+receive on a plain channel {Report.Rate(bestStreamedPlain)} msgs/s = {bestStreamedPlain / oneClient * 100:F0}% of the one-connection ZADD rate (sends overlap; each receive is one pop, one round trip: at most 100%)"));
        outcome.Ratios.Add(string.Create(
            Inv,
            $"ours best fan-out with every delivery through Redis ({bestFanOutId}) {Report.Rate(bestFanOut)} deliveries/s = {bestFanOut / pipelined:F2}x the pipelined ZADD rate (one ZADD per group_send and key carries every member under that key)"));
        outcome.Ratios.Add(string.Create(
            Inv,
            $"ours most group messages written ({bestWritesId}) {Report.Rate(bestWrites)}/s = {bestWrites / pipelined * 100:F1}% of the pipelined ZADD ceiling: the fan-out is bound by sequential round trips and client work, not by Redis"));
        return outcome;
    }
}
