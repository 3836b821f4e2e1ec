using System.Diagnostics;
using System.Globalization;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// e) Server memory per idle connection. For each framework a fresh server process; <see cref="WarmConnections"/>
/// clients join a room and exchange one message (JIT, pools, statics and the room itself exist from then on); the
/// server runs a full compacting GC and reports its managed heap and RSS ("before"); then N more clients connect and
/// join the room, and after 1 s the server is measured the same way ("after"). Per connection =
/// (after − before) / N. One broadcast afterwards checks that every connection was live and in the room.
/// </summary>
internal static class IdleMemoryScenario
{
    public const int WarmConnections = 20;

    /// <summary>Target for Channels.Net, per idle connection.</summary>
    public const double TargetBytesPerConnection = 16 * 1024;

    private const string RoomName = "idle";
    private static readonly TimeSpan ConnectDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan VerifyTimeout = TimeSpan.FromSeconds(20);

    public static async Task<ScenarioOutcome> RunAsync(int connections, int holdSeconds, TextWriter progress)
    {
        var results = new List<MemoryResult>();
        foreach (var framework in new[] { BroadcastFramework.ChannelsNet, BroadcastFramework.SignalR, BroadcastFramework.BareWebSocket })
        {
            var result = await MeasureAsync(framework, connections, holdSeconds, progress);
            results.Add(result);
        }

        var c = results[0];
        var s = results[1];
        var floor = results[2];
        var outcome = new ScenarioOutcome(
            "e",
            $"server memory per idle WebSocket connection joined to one room ({connections:N0} connections, fresh server process each, after full compacting GC)",
            []);
        outcome.Ratios.Add($"{"",-15}{"conns",7}{"managed KiB/conn",18}{"RSS KiB/conn",14}{"anon KiB/conn",15}{"committed KiB/conn",20}{"RSS before MiB",16}{"RSS after MiB",15}{"connect s",11}");
        foreach (var r in results)
        {
            outcome.Ratios.Add($"{r.Framework.Label(),-15}{r.Connected,7:N0}{Kib(r.ManagedPerConnection),18}{Kib(r.RssPerConnection),14}{Kib(r.RssAnonPerConnection),15}{Kib(r.CommittedPerConnection),20}" +
                $"{Mib(r.Before.Rss),16}{Mib(r.After.Rss),15}{r.Connect.Elapsed.TotalSeconds,11:F1}");
        }

        outcome.Ratios.Add($"SignalR / Channels.Net per connection: managed {Report.Ratio(s.ManagedPerConnection / c.ManagedPerConnection)}, RSS {Report.Ratio(s.RssPerConnection / c.RssPerConnection)}");
        outcome.Ratios.Add($"above the bare-WebSocket floor (Kestrel + WebSocket + a room set): Channels.Net +{Kib(c.ManagedPerConnection - floor.ManagedPerConnection)} KiB managed, +{Kib(c.RssPerConnection - floor.RssPerConnection)} KiB RSS; " +
            $"SignalR +{Kib(s.ManagedPerConnection - floor.ManagedPerConnection)} KiB managed, +{Kib(s.RssPerConnection - floor.RssPerConnection)} KiB RSS");
        foreach (var r in results)
        {
            outcome.Ratios.Add($"{r.Framework.Label()}: {r.Connected:N0} of {r.Connect.Requested:N0} connected ({r.Connect.Failed} failed{(r.Connect.FirstError is null ? "" : ", first: " + r.Connect.FirstError)}); " +
                $"broadcast check: {r.Verified:N0} of {r.Connected + WarmConnections:N0} got it; server threads {r.After.OsThreads} (pool {r.After.PoolThreads}); " +
                $"warnings {r.After.Warnings}{(r.After.Warnings > 0 ? " (first: " + r.After.FirstWarning + ")" : "")}");
        }

        outcome.Targets.Add(new TargetCheck(
            $"Channels.Net RSS per idle connection <= {Kib(TargetBytesPerConnection)} KiB",
            c.RssPerConnection <= TargetBytesPerConnection,
            $"{Kib(c.RssPerConnection)} KiB (SignalR {Kib(s.RssPerConnection)} KiB)"));
        outcome.Targets.Add(new TargetCheck(
            $"Channels.Net managed heap per idle connection <= {Kib(TargetBytesPerConnection)} KiB",
            c.ManagedPerConnection <= TargetBytesPerConnection,
            $"{Kib(c.ManagedPerConnection)} KiB (SignalR {Kib(s.ManagedPerConnection)} KiB)"));
        outcome.Targets.Add(new TargetCheck(
            $"{connections:N0} idle connections reached and live on every server",
            results.All(r => r.Connected == connections && r.Verified == connections + WarmConnections),
            string.Join(", ", results.Select(r => $"{r.Framework.Label()} {r.Connected:N0} connected, {r.Verified:N0} reached"))));
        return outcome;
    }

    private static async Task<MemoryResult> MeasureAsync(BroadcastFramework framework, int connections, int holdSeconds, TextWriter progress)
    {
        var server = await ServerProcess.StartAsync(framework);
        var room = new Room(server, RoomName);
        try
        {
            var warm = await room.ConnectAsync(WarmConnections, TimeSpan.FromSeconds(30));
            if (warm.Connected != WarmConnections)
            {
                throw new InvalidOperationException($"{framework.Label()}: only {warm.Connected} of {WarmConnections} warm-up clients connected: {warm.FirstError}");
            }

            await BroadcastOnceAsync(room);
            await server.StatsAsync(collect: true);
            var before = await server.StatsAsync(collect: true);
            await HoldAsync("before", server, room, holdSeconds, progress);

            var connect = await room.ConnectAsync(connections, ConnectDeadline);
            await Task.Delay(1000);
            await server.StatsAsync(collect: true);
            var after = await server.StatsAsync(collect: true);
            await HoldAsync("after", server, room, holdSeconds, progress);
            var verified = await BroadcastOnceAsync(room);

            var result = new MemoryResult(framework, connect, connect.Connected, verified, before, after);
            progress.WriteLine($"  {framework.Label(),-14} {connect.Connected:N0} idle connections in {connect.Elapsed.TotalSeconds:F1} s: managed +{Mib(after.Managed - before.Managed)} MiB " +
                $"({Kib(result.ManagedPerConnection)} KiB/conn), RSS +{Mib(after.Rss - before.Rss)} MiB ({Kib(result.RssPerConnection)} KiB/conn); {verified:N0} reached by a broadcast");
            return result;
        }
        finally
        {
            // Stop the server first: the clients' teardown is then instant and costs the server nothing.
            await server.DisposeAsync();
            await room.DisposeAsync();
        }
    }

    private static async Task HoldAsync(string point, IRoomServer server, Room room, int seconds, TextWriter progress)
    {
        if (seconds > 0)
        {
            progress.WriteLine($"  holding '{point}': {server.Framework.Label()} server pid {server.ProcessId}, {room.Clients.Count:N0} connections, for {seconds} s");
            await Task.Delay(TimeSpan.FromSeconds(seconds));
        }
    }

    /// <summary>The first client sends one message; returns how many clients got it within the timeout.</summary>
    private static async Task<long> BroadcastOnceAsync(Room room)
    {
        var round = room.NextRound();
        var done = room.Tracker.Begin(round, 1, room.Clients);
        await room.Clients[0].SendAsync(BroadcastMessage.Create(round, 0, 0, Stopwatch.GetTimestamp()), CancellationToken.None);
        try
        {
            await done.WaitAsync(VerifyTimeout);
        }
        catch (TimeoutException)
        {
            // Counted below.
        }

        return room.Clients.Sum(static c => (long)Math.Min(c.Received, 1));
    }

    private static string Kib(double bytes) => (bytes / 1024).ToString("F1", CultureInfo.InvariantCulture);

    private static string Mib(double bytes) => (bytes / (1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture);

    private sealed record MemoryResult(BroadcastFramework Framework, ConnectOutcome Connect, int Connected, long Verified, ServerStats Before, ServerStats After)
    {
        private double Per(long delta) => Connected == 0 ? double.NaN : (double)delta / Connected;

        public double ManagedPerConnection => Per(After.Managed - Before.Managed);

        public double RssPerConnection => Per(After.Rss - Before.Rss);

        public double RssAnonPerConnection => Per(After.RssAnon - Before.RssAnon);

        public double CommittedPerConnection => Per(After.Committed - Before.Committed);
    }
}
