using System.Globalization;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>What the burst cases can use: the suite's redis-server and the Django stack, or why they are missing.</summary>
internal sealed record BroadcastPrerequisites(RedisServerProcess? Redis, string? RedisMissing, string? DjangoVersions, string? DjangoMissing)
{
    /// <summary>Why <paramref name="c"/> cannot run here, or null.</summary>
    public string? Missing(BroadcastCase c) =>
        c.Framework.NeedsRedis() && Redis is null ? RedisMissing
        : c.Framework == BroadcastFramework.Django ? DjangoMissing
        : null;
}

/// <summary>
/// c) Room broadcast burst, one case after another (<see cref="BroadcastCase.All"/>): each case gets fresh servers
/// (clients split evenly between them), <see cref="WarmupBursts"/> untimed bursts (tiered JIT; Python's caches), then
/// the measured rounds; the Redis is flushed before each case. Per case: delivered of expected and lost over the
/// measured rounds, deliveries/s of the median round, and p50/p99 latency of every delivery of those rounds.
/// A case that cannot run here (no redis-server, no daphne, a server that does not start) is a row that says why.
/// </summary>
internal static class ThroughputScenario
{
    /// <summary>Untimed bursts per case before the measured ones: enough for a steady state. With 2, the measured rounds
    /// still ran partly tier-0 JIT code of Channels.Net and the benchmark (SignalR is precompiled in the shared
    /// framework), and deliveries/s kept rising round after round on 2 cores.</summary>
    public const int WarmupBursts = 5;

    /// <summary>The room every case's clients join (c and d).</summary>
    internal const string RoomName = "bench";

    public static async Task<(ScenarioOutcome Outcome, IReadOnlyList<CaseResult> Results)> RunAsync(
        IReadOnlyList<BroadcastCase> cases, BroadcastPrerequisites prerequisites, int rounds, TextWriter progress, bool interleave = false)
    {
        if (interleave)
        {
            var interleaved = await RunInterleavedAsync(cases, prerequisites, rounds, progress);
            return (Outcome(interleaved, rounds), interleaved);
        }

        var results = new List<CaseResult>();
        foreach (var c in cases)
        {
            progress.WriteLine($"  [{c.Id}] {c.Label}, {c.Servers} server(s), layer: {c.Layer}; {c.Load}");
            var result = prerequisites.Missing(c) is { } missing
                ? new CaseResult(c, [], $"not run: {missing}")
                : await RunCaseAsync(c, prerequisites.Redis, rounds, progress);
            if (result.NotRun is not null)
            {
                progress.WriteLine($"    {result.NotRun}");
            }

            results.Add(result);
        }

        return (Outcome(results, rounds), results);
    }

    private static async Task<CaseResult> RunCaseAsync(BroadcastCase c, RedisServerProcess? redis, int rounds, TextWriter progress)
    {
        if (c.Framework.NeedsRedis())
        {
            await redis!.FlushAllAsync();
        }

        await using var started = await CaseRoom.StartAsync(c, redis, RoomName, progress);
        if (started.NotRun is { } notRun)
        {
            return new CaseResult(c, [], notRun);
        }

        var room = started.Room!;
        Func<TimeSpan>? redisCpu = c.Framework.NeedsRedis() ? () => redis!.CpuTime : null;
        var bursts = new List<BurstResult>();
        try
        {
            for (var w = 0; w < WarmupBursts; w++)
            {
                progress.WriteLine($"    warm-up {Describe(await BurstRound.RunAsync(room, c.Load, redisCpu))}");
            }

            for (var r = 0; r < rounds; r++)
            {
                var burst = await BurstRound.RunAsync(room, c.Load, redisCpu);
                bursts.Add(burst);
                progress.WriteLine($"    round {r + 1} {Describe(burst)}");
            }
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            // A server that died mid-case (its /stats no longer answers): the other cases still run.
            return new CaseResult(c, [], $"failed after {bursts.Count} measured round(s): {ex.GetType().Name}: {ex.Message}");
        }

        return new CaseResult(c, bursts, null);
    }

    /// <summary>
    /// Every case's servers up at once, each case in a room of its own (so cases on one Redis never share a group),
    /// then the warm-ups and the measured rounds case after case, the order turning each round (round r starts with
    /// case r mod n): a drift of the shared machine falls on every case alike, so same-run ratios hold better.
    /// </summary>
    private static async Task<List<CaseResult>> RunInterleavedAsync(IReadOnlyList<BroadcastCase> cases, BroadcastPrerequisites prerequisites, int rounds, TextWriter progress)
    {
        var redis = prerequisites.Redis;
        if (redis is not null && cases.Any(static c => c.Framework.NeedsRedis()))
        {
            await redis.FlushAllAsync();
        }

        var results = new Dictionary<BroadcastCase, CaseResult>();
        var running = new List<(BroadcastCase Case, CaseRoom Room, List<BurstResult> Bursts)>();
        try
        {
            foreach (var c in cases)
            {
                progress.WriteLine($"  [{c.Id}] {c.Label}, {c.Servers} server(s), layer: {c.Layer}; {c.Load} (interleaved)");
                if (prerequisites.Missing(c) is { } missing)
                {
                    results[c] = new CaseResult(c, [], $"not run: {missing}");
                    continue;
                }

                var started = await CaseRoom.StartAsync(c, redis, $"{RoomName}_{c.Id.Replace('-', '_')}", progress); // \w only: the tutorial's route
                if (started.NotRun is { } notRun)
                {
                    results[c] = new CaseResult(c, [], notRun);
                    await started.DisposeAsync();
                    continue;
                }

                running.Add((c, started, []));
            }

            for (var step = 0; step < WarmupBursts + rounds; step++)
            {
                var measured = step >= WarmupBursts;
                for (var k = 0; k < running.Count; k++)
                {
                    var (c, started, bursts) = running[(step + k) % running.Count];
                    if (results.ContainsKey(c))
                    {
                        continue; // failed earlier
                    }

                    try
                    {
                        var burst = await BurstRound.RunAsync(started.Room!, c.Load, c.Framework.NeedsRedis() ? () => redis!.CpuTime : null);
                        if (measured)
                        {
                            bursts.Add(burst);
                        }

                        progress.WriteLine($"    [{c.Id}] {(measured ? $"round {step - WarmupBursts + 1}" : "warm-up")} {Describe(burst)}");
                    }
                    catch (Exception ex) when (IsServerFailure(ex))
                    {
                        results[c] = new CaseResult(c, [], $"failed after {bursts.Count} measured round(s): {ex.GetType().Name}: {ex.Message}");
                    }
                }
            }
        }
        finally
        {
            foreach (var (_, started, _) in running)
            {
                await started.DisposeAsync();
            }
        }

        foreach (var (c, _, bursts) in running)
        {
            results.TryAdd(c, new CaseResult(c, bursts, null));
        }

        return [.. cases.Select(c => results[c])];
    }

    /// <summary>What a server that died mid-measure throws at the benchmark (its /stats or its sockets no longer answer).</summary>
    internal static bool IsServerFailure(Exception ex) =>
        ex is HttpRequestException or IOException or InvalidOperationException or TimeoutException or TaskCanceledException;

    private static ScenarioOutcome Outcome(IReadOnlyList<CaseResult> results, int rounds)
    {
        var ran = results.Where(static r => r.NotRun is null).ToList();
        var outcome = new ScenarioOutcome(
            "c",
            $"room broadcast burst over loopback WebSockets, every framework on its defaults; {rounds} measured rounds per case after {WarmupBursts} warm-ups " +
            "(rate: median round; delivered, lost and latency: all measured rounds; B/unit and GC columns: .NET server processes)",
            [.. ran.Select(static r => new BenchResult(new BenchCase($"{r.Case.Id}: {r.Case.Label} x{r.Case.Servers}, {r.Case.Load.Clients} clients", "delivery", r.Case.Load.Deliveries, static () => { }), [.. r.Bursts.Select(static b => b.Sample)], WarmupBursts))]);
        outcome.Ratios.AddRange(CaseResult.Table(results));
        foreach (var r in ran.Where(static r => r.Bursts.Any(static b => b.Warnings > 0)))
        {
            outcome.Ratios.Add($"{r.Case.Id}: {r.Bursts.Sum(static b => b.Warnings):N0} server warnings; first: {r.Bursts.First(static b => b.FirstWarning.Length > 0).FirstWarning}");
        }

        foreach (var r in ran.Where(static r => r.Bursts.Any(static b => b.OutOfOrder + b.Extra + b.Malformed > 0)))
        {
            outcome.Ratios.Add($"{r.Case.Id}: {r.Bursts.Sum(static b => b.OutOfOrder):N0} out of order, {r.Bursts.Sum(static b => b.Extra):N0} extra, {r.Bursts.Sum(static b => b.Malformed):N0} malformed");
        }

        foreach (var r in ran.Where(static r => r.Case.Framework is BroadcastFramework.ChannelsNet or BroadcastFramework.ChannelsNetRedis or BroadcastFramework.ChannelsNetPubSub))
        {
            outcome.Targets.Add(new TargetCheck(
                $"{r.Case.Id} loses nothing",
                r.Lost == 0,
                string.Create(CultureInfo.InvariantCulture, $"{r.Delivered:N0} of {r.Expected:N0} delivered, {r.LostPercent:F2} % lost")));
        }

        return outcome;
    }

    private static string Describe(BurstResult b) =>
        $"{b.Delivered:N0}/{b.Expected:N0} delivered, last after {b.ElapsedMs:F0} ms = {Report.Rate(b.DeliveriesPerSecond)}/s; sends done after {b.SendMs:F0} ms; " +
        $"server CPU {b.ServerCpu.TotalMilliseconds:F0} ms, redis CPU {b.RedisCpu.TotalMilliseconds:F0} ms, client CPU {b.ClientCpu.TotalMilliseconds:F0} ms; " +
        $"server work items {b.WorkItems:N0}, contended locks {b.LockContention:N0}, pool threads {b.PoolThreads}" +
        (b.Lost > 0 ? string.Create(CultureInfo.InvariantCulture, $"; LOST {b.Lost:N0} ({b.LostPercent:F2} %, {b.ShortClients} clients short)") : "") +
        (b.OutOfOrder > 0 ? $"; {b.OutOfOrder} out of order" : "") +
        (b.Warnings > 0 ? $"; {b.Warnings} server warnings" : "");
}
