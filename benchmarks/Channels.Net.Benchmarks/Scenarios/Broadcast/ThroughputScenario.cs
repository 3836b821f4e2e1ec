using System.Diagnostics;
using System.Globalization;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// c) Room broadcast burst: <see cref="Clients"/> clients in one room, <see cref="Senders"/> of them send
/// <see cref="MessagesPerSender"/> messages each as fast as their connection takes them; every client counts what it
/// gets. Deliveries/s = deliveries / (first send .. last delivery). Each client must get exactly
/// Senders × MessagesPerSender messages of the round, in order per sender. Rounds alternate between the frameworks
/// (A B, B A, ...); the median round is reported.
/// </summary>
internal static class ThroughputScenario
{
    public const int Clients = 200;
    public const int Senders = 10;
    public const int MessagesPerSender = 200;

    /// <summary>Full-size untimed bursts per framework first: tiered JIT needs a few (more on a busy machine) before
    /// the hot paths of code that is not precompiled (Channels.Net, this app) run optimised.</summary>
    public const int WarmupBursts = 3;
    public const long DeliveriesPerRound = (long)Clients * Senders * MessagesPerSender;

    /// <summary>A round that has not delivered everything by then is reported with what it lost.</summary>
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(45);

    /// <summary>After the last send, a round in which nothing arrives for this long has lost what is missing.</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(3);

    public static async Task<ScenarioOutcome> RunAsync(Room channels, Room signalR, int rounds, TextWriter progress)
    {
        Room[] rooms = [channels, signalR];
        await WarmUpAsync(rooms, WarmupBursts, progress);

        var results = rooms.ToDictionary(static r => r.Framework, static _ => new List<BurstResult>());
        for (var r = 0; r < rounds; r++)
        {
            var order = r % 2 == 0 ? rooms : rooms.Reverse().ToArray();
            foreach (var room in order)
            {
                var burst = await RunBurstAsync(room, MessagesPerSender);
                results[room.Framework].Add(burst);
                progress.WriteLine($"  round {r + 1} {room.Framework.Label(),-12} {Describe(burst)}");
            }
        }

        var c = results[BroadcastFramework.ChannelsNet];
        var s = results[BroadcastFramework.SignalR];
        var channelsCase = new BenchCase($"Channels.Net ChatConsumer, {Clients} raw ClientWebSocket clients", "delivery", DeliveriesPerRound, static () => { });
        var signalRCase = new BenchCase($"SignalR ChatHub (JSON, WebSockets), {Clients} SignalR clients", "delivery", DeliveriesPerRound, static () => { }) { IsBaseline = true };
        var channelsResult = new BenchResult(channelsCase, [.. c.Select(static b => b.Sample)], 1);
        var signalRResult = new BenchResult(signalRCase, [.. s.Select(static b => b.Sample)], 1);

        var outcome = new ScenarioOutcome(
            "c",
            $"room broadcast burst over loopback WebSockets: {Clients} clients, {Senders} senders x {MessagesPerSender} messages = {DeliveriesPerRound:N0} deliveries per round (B/unit and GC columns: server process)",
            [channelsResult, signalRResult]);
        var cRate = channelsResult.OpsPerSecond;
        var sRate = signalRResult.OpsPerSecond;
        outcome.Ratios.Add($"deliveries/s (median of {rounds}): Channels.Net {Report.Rate(cRate)}, SignalR {Report.Rate(sRate)}; Channels.Net / SignalR: {Report.Ratio(cRate / sRate)}");
        outcome.Ratios.Add($"every round, deliveries/s: Channels.Net {string.Join(", ", c.Select(static b => Report.Rate(b.DeliveriesPerSecond)))}; SignalR {string.Join(", ", s.Select(static b => Report.Rate(b.DeliveriesPerSecond)))}");
        outcome.Ratios.Add($"server CPU per delivery (median round): Channels.Net {Us(Median(c, static b => b.ServerCpuUsPerDelivery))} us, SignalR {Us(Median(s, static b => b.ServerCpuUsPerDelivery))} us; client process: {Us(Median(c, static b => b.ClientCpuUsPerDelivery))} us vs {Us(Median(s, static b => b.ClientCpuUsPerDelivery))} us");
        outcome.Ratios.Add($"server thread-pool work items per delivery: Channels.Net {Median(c, static b => b.WorkItemsPerDelivery).ToString("F2", CultureInfo.InvariantCulture)}, SignalR {Median(s, static b => b.WorkItemsPerDelivery).ToString("F2", CultureInfo.InvariantCulture)}; server lock contentions per round: {Median(c, static b => b.LockContentions):F0} vs {Median(s, static b => b.LockContentions):F0}");
        outcome.Ratios.Add($"all {Senders * MessagesPerSender:N0} sends written after (median): Channels.Net {Median(c, static b => b.SendMs):F0} ms, SignalR {Median(s, static b => b.SendMs):F0} ms (last delivery after {Median(c, static b => b.ElapsedMs):F0} ms vs {Median(s, static b => b.ElapsedMs):F0} ms)");
        outcome.Ratios.Add($"lost: Channels.Net {c.Sum(static b => b.Lost):N0} of {c.Sum(static b => b.Expected):N0} ({c.Sum(static b => b.ShortClients)} short client-rounds), SignalR {s.Sum(static b => b.Lost):N0} of {s.Sum(static b => b.Expected):N0}; out of order: {c.Sum(static b => b.OutOfOrder)} vs {s.Sum(static b => b.OutOfOrder)}; server warnings: {c.Sum(static b => b.Warnings)} vs {s.Sum(static b => b.Warnings)}");
        if (c.FirstOrDefault(static b => b.FirstWarning.Length > 0) is { } warned)
        {
            outcome.Ratios.Add($"Channels.Net server's first warning: {warned.FirstWarning}");
        }

        outcome.Targets.Add(new TargetCheck(
            "Channels.Net deliveries/s >= SignalR's (median rounds)",
            cRate >= sRate,
            $"{Report.Rate(cRate)} vs {Report.Rate(sRate)} ({Report.Ratio(cRate / sRate)})"));
        var lost = c.Sum(static b => b.Lost + b.Extra + b.OutOfOrder);
        outcome.Targets.Add(new TargetCheck(
            $"Channels.Net loses nothing: every client gets exactly {Senders}x{MessagesPerSender} messages, in order, every round",
            lost == 0,
            $"{c.Sum(static b => b.Delivered):N0} of {c.Sum(static b => b.Expected):N0} delivered, {c.Sum(static b => b.OutOfOrder)} out of order"));
        return outcome;
    }

    /// <summary>Untimed full-size bursts, so that the servers' hot paths are JIT-optimised before anything is measured.</summary>
    public static async Task WarmUpAsync(IReadOnlyList<Room> rooms, int bursts, TextWriter progress)
    {
        for (var w = 0; w < bursts; w++)
        {
            foreach (var room in rooms)
            {
                var warm = await RunBurstAsync(room, MessagesPerSender);
                progress.WriteLine($"  warm-up {room.Framework.Label(),-12} {Describe(warm)}");
            }
        }
    }

    /// <summary>One burst: every sender sends <paramref name="perSender"/> messages back to back.</summary>
    private static async Task<BurstResult> RunBurstAsync(Room room, int perSender)
    {
        var round = room.NextRound();
        var expectedPerClient = Senders * perSender;
        var before = await room.Server.StatsAsync();
        using var self = Process.GetCurrentProcess();
        var clientCpuBefore = self.TotalProcessorTime;
        var done = room.Tracker.Begin(round, expectedPerClient, room.Clients);
        using var stop = new CancellationTokenSource(RoundTimeout);

        var start = Stopwatch.GetTimestamp();
        var sending = new Task<long>[Senders];
        for (var s = 0; s < Senders; s++)
        {
            var sender = s;
            sending[s] = Task.Run(() => SendBurstAsync(room.Clients[sender], round, sender, perSender, stop.Token));
        }

        await WaitForDeliveriesAsync(done, Task.WhenAll(sending), room.Clients, start);

        long sendsDone = 0;
        try
        {
            sendsDone = (await Task.WhenAll(sending)).Max();
        }
        catch (OperationCanceledException)
        {
        }

        await Task.Delay(100); // anything beyond the expected count would show now
        self.Refresh();
        var clientCpu = self.TotalProcessorTime - clientCpuBefore;
        var after = await room.Server.StatsAsync();
        var clients = room.Clients;
        var lastDelivery = clients.Max(static c => c.LastDeliveryAt);
        return new BurstResult(
            Expected: (long)expectedPerClient * clients.Count,
            Delivered: clients.Sum(static c => (long)c.Received),
            Lost: clients.Sum(c => (long)Math.Max(0, expectedPerClient - c.Received)),
            Extra: clients.Sum(c => (long)Math.Max(0, c.Received - expectedPerClient)),
            ShortClients: clients.Count(c => c.Received < expectedPerClient),
            OutOfOrder: clients.Sum(static c => c.OutOfOrder),
            ElapsedTicks: Math.Max(1, lastDelivery - start),
            SendTicks: sendsDone == 0 ? 0 : sendsDone - start,
            Before: before,
            After: after,
            ClientCpu: clientCpu);
    }

    /// <summary>Waits until every client got everything, or — when messages were lost — until nothing has arrived
    /// for <see cref="StallTimeout"/> after the last send, bounded by <see cref="RoundTimeout"/>.</summary>
    private static async Task WaitForDeliveriesAsync(Task done, Task sending, IReadOnlyList<BroadcastClient> clients, long start)
    {
        var lastTotal = -1L;
        var lastChange = Stopwatch.GetTimestamp();
        while (!done.IsCompleted && Stopwatch.GetElapsedTime(start) < RoundTimeout)
        {
            await Task.WhenAny(done, Task.Delay(250));
            var total = clients.Sum(static c => (long)c.Received);
            if (total != lastTotal)
            {
                lastTotal = total;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (sending.IsCompleted && Stopwatch.GetElapsedTime(lastChange) > StallTimeout)
            {
                return; // Lost: reported by the caller.
            }
        }
    }

    private static async Task<long> SendBurstAsync(BroadcastClient client, int round, int sender, int count, CancellationToken cancellationToken)
    {
        for (var seq = 0; seq < count; seq++)
        {
            await client.SendAsync(BroadcastMessage.Create(round, sender, seq, Stopwatch.GetTimestamp()), cancellationToken);
        }

        return Stopwatch.GetTimestamp();
    }

    private static string Describe(BurstResult b) =>
        $"{b.Delivered:N0}/{b.Expected:N0} deliveries, last after {b.ElapsedMs:F0} ms = {Report.Rate(b.DeliveriesPerSecond)}/s; " +
        $"sends done after {b.SendMs:F0} ms; server CPU {b.ServerCpuMs:F0} ms ({Us(b.ServerCpuUsPerDelivery)} us/delivery), " +
        $"alloc {Report.Bytes(b.ServerBytesPerDelivery)} B/delivery, GC {b.Sample.Gen0}/{b.Sample.Gen1}/{b.Sample.Gen2}; client CPU {b.ClientCpu.TotalMilliseconds:F0} ms" +
        (b.Lost > 0 ? $"; LOST {b.Lost:N0} ({b.ShortClients} clients short)" : "") +
        (b.OutOfOrder > 0 ? $"; {b.OutOfOrder} out of order" : "") +
        (b.Warnings > 0 ? $"; {b.Warnings} server warnings" : "");

    private static double Median(List<BurstResult> results, Func<BurstResult, double> value)
    {
        var sorted = results.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Us(double us) => us.ToString("F2", CultureInfo.InvariantCulture);

    private sealed record BurstResult(
        long Expected,
        long Delivered,
        long Lost,
        long Extra,
        int ShortClients,
        int OutOfOrder,
        long ElapsedTicks,
        long SendTicks,
        ServerStats Before,
        ServerStats After,
        TimeSpan ClientCpu)
    {
        public RoundSample Sample => new(
            Math.Max(Delivered, 1),
            ElapsedTicks,
            After.Allocated - Before.Allocated,
            After.Gen0 - Before.Gen0,
            After.Gen1 - Before.Gen1,
            After.Gen2 - Before.Gen2);

        public double ElapsedMs => ElapsedTicks * 1000.0 / Stopwatch.Frequency;

        public double SendMs => SendTicks * 1000.0 / Stopwatch.Frequency;

        public double DeliveriesPerSecond => Delivered / (ElapsedMs / 1000);

        public double ServerCpuMs => After.CpuMs - Before.CpuMs;

        public double ServerCpuUsPerDelivery => ServerCpuMs * 1000 / Math.Max(Delivered, 1);

        public double ClientCpuUsPerDelivery => ClientCpu.TotalMilliseconds * 1000 / Math.Max(Delivered, 1);

        public double ServerBytesPerDelivery => (double)(After.Allocated - Before.Allocated) / Math.Max(Delivered, 1);

        public double WorkItemsPerDelivery => (double)(After.WorkItems - Before.WorkItems) / Math.Max(Delivered, 1);

        public double LockContentions => After.LockContention - Before.LockContention;

        public int Warnings => After.Warnings - Before.Warnings;

        public string FirstWarning => After.FirstWarning;
    }
}
