using System.Diagnostics;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// One burst in a <see cref="Room"/>: the load's senders send their messages back to back (each awaits its previous
/// send); every client counts what it gets of the round and records each delivery's latency (receive time − the
/// timestamp taken just before the send). The burst ends when every client got everything or — when messages were
/// lost — once nothing has arrived for <see cref="StallTimeout"/> after the last send, within <see cref="RoundTimeout"/>;
/// what arrived by then is counted, the rest is lost. It never throws for a loss.
/// </summary>
internal static class BurstRound
{
    /// <summary>After the last send, a burst in which nothing arrives for this long has lost what is missing.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The overall cap of one burst (sending included).</summary>
    public static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(60);

    /// <param name="redisCpu">The CPU time of the redis-server the servers share, if any: reported beside theirs.</param>
    public static async Task<BurstResult> RunAsync(Room room, BroadcastLoad load, Func<TimeSpan>? redisCpu)
    {
        var round = room.NextRound();
        var clients = room.Clients;
        var before = await StatsAsync(room);
        var serverCpuBefore = ServerCpu(room);
        var redisCpuBefore = redisCpu?.Invoke() ?? TimeSpan.Zero;
        using var self = Process.GetCurrentProcess();
        var clientCpuBefore = self.TotalProcessorTime;
        var done = room.Tracker.Begin(round, load.PerClient, clients, latencyCapacity: (int)load.Deliveries);
        using var stop = new CancellationTokenSource(RoundTimeout);

        var start = Stopwatch.GetTimestamp();
        var sending = new Task<long>[load.Senders];
        for (var s = 0; s < load.Senders; s++)
        {
            var sender = s;
            sending[s] = Task.Run(() => SendAsync(clients[sender], round, sender, load.PerSender, stop.Token));
        }

        await WaitForDeliveriesAsync(done, Task.WhenAll(sending), clients, start);
        stop.Cancel(); // a sender still blocked (a server that stopped reading) gives up now
        long sendsDone = 0;
        try
        {
            sendsDone = (await Task.WhenAll(sending)).Max();
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            // Counted as lost below.
        }

        await Task.Delay(100); // anything beyond the expected count would show now
        self.Refresh();
        var after = await StatsAsync(room);
        var latencies = room.Tracker.Latencies.ToArray();
        Array.Sort(latencies);
        var expectedPerClient = load.PerClient;
        return new BurstResult(
            Expected: load.Deliveries,
            Delivered: clients.Sum(c => (long)Math.Min(c.Received, expectedPerClient)),
            Extra: clients.Sum(c => (long)Math.Max(0, c.Received - expectedPerClient)),
            ShortClients: clients.Count(c => c.Received < expectedPerClient),
            OutOfOrder: clients.Sum(static c => c.OutOfOrder),
            Malformed: clients.Sum(static c => c.Malformed),
            ElapsedTicks: Math.Max(1, clients.Max(static c => c.LastDeliveryAt) - start),
            SendTicks: sendsDone == 0 ? 0 : sendsDone - start,
            Latencies: latencies,
            ServerCpu: ServerCpu(room) - serverCpuBefore,
            RedisCpu: (redisCpu?.Invoke() ?? TimeSpan.Zero) - redisCpuBefore,
            ClientCpu: self.TotalProcessorTime - clientCpuBefore,
            Before: before,
            After: after);
    }

    /// <summary>Waits until every client got everything, or until nothing has arrived for <see cref="StallTimeout"/>
    /// after the last send, bounded by <see cref="RoundTimeout"/>.</summary>
    private static async Task WaitForDeliveriesAsync(Task done, Task sending, IReadOnlyList<BroadcastClient> clients, long start)
    {
        var lastTotal = -1L;
        var lastChange = Stopwatch.GetTimestamp();
        while (!done.IsCompleted && Stopwatch.GetElapsedTime(start) < RoundTimeout)
        {
            await Task.WhenAny(done, Task.Delay(100));
            var total = clients.Sum(static c => (long)c.Received);
            if (total != lastTotal || !sending.IsCompleted)
            {
                lastTotal = total;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > StallTimeout)
            {
                return;
            }
        }
    }

    private static async Task<long> SendAsync(BroadcastClient client, int round, int sender, int count, CancellationToken cancellationToken)
    {
        for (var seq = 0; seq < count; seq++)
        {
            await client.SendAsync(BroadcastMessage.Create(round, sender, seq, Stopwatch.GetTimestamp()), cancellationToken);
        }

        return Stopwatch.GetTimestamp();
    }

    private static TimeSpan ServerCpu(Room room) => room.Servers.Aggregate(TimeSpan.Zero, static (sum, s) => sum + s.CpuTime);

    private static async Task<ServerStats?[]> StatsAsync(Room room) => await Task.WhenAll(room.Servers.Select(static s => s.TryStatsAsync()));
}

/// <summary>What one <see cref="BurstRound"/> measured.</summary>
/// <param name="Delivered">Deliveries of the round, at most the expected number per client.</param>
/// <param name="Latencies">Every delivery's latency in Stopwatch ticks, sorted.</param>
/// <param name="Before">Each .NET server's <c>/stats</c> before the burst (null for daphne).</param>
internal sealed record BurstResult(
    long Expected,
    long Delivered,
    long Extra,
    int ShortClients,
    int OutOfOrder,
    int Malformed,
    long ElapsedTicks,
    long SendTicks,
    long[] Latencies,
    TimeSpan ServerCpu,
    TimeSpan RedisCpu,
    TimeSpan ClientCpu,
    ServerStats?[] Before,
    ServerStats?[] After)
{
    public long Lost => Expected - Delivered;

    public double LostPercent => 100.0 * Lost / Expected;

    public double ElapsedMs => ElapsedTicks * 1000.0 / Stopwatch.Frequency;

    public double SendMs => SendTicks * 1000.0 / Stopwatch.Frequency;

    /// <summary>Deliveries (of the round) / (first send .. last delivery).</summary>
    public double DeliveriesPerSecond => Delivered / (ElapsedMs / 1000);

    public double ServerCpuUsPerDelivery => ServerCpu.TotalMilliseconds * 1000 / Math.Max(Delivered, 1);

    /// <summary>Sum over the .NET servers (0 for daphne).</summary>
    public long Allocated => Delta(static s => s.Allocated);

    public int Warnings => (int)Delta(static s => s.Warnings);

    /// <summary>Thread-pool work items run in the round, summed over the .NET servers.</summary>
    public long WorkItems => Delta(static s => s.WorkItems);

    /// <summary>Contended <c>lock</c> entries (Monitor) in the round, summed over the .NET servers.</summary>
    public long LockContention => Delta(static s => s.LockContention);

    /// <summary>Thread-pool threads at the end of the round, summed over the .NET servers.</summary>
    public int PoolThreads => After.Sum(static s => s?.PoolThreads ?? 0);

    public string FirstWarning => After.FirstOrDefault(static s => s is { FirstWarning.Length: > 0 })?.FirstWarning ?? "";

    public RoundSample Sample => new(
        Math.Max(Delivered, 1),
        ElapsedTicks,
        Allocated,
        (int)Delta(static s => s.Gen0),
        (int)Delta(static s => s.Gen1),
        (int)Delta(static s => s.Gen2));

    private long Delta(Func<ServerStats, long> value) =>
        After.Zip(Before).Sum(p => p.First is null || p.Second is null ? 0 : value(p.First) - value(p.Second));
}
