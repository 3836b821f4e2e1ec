using Channels.Net.Benchmarks.Scenarios.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The fresh servers of one <see cref="BroadcastCase"/> (on the suite's redis-server when the case needs it) and its
/// room with every client connected and joined; or, in <see cref="NotRun"/>, why not (a server that did not start,
/// clients that did not connect). Used by c) per case and by d) per side of a pair. It does not flush the Redis: the
/// caller does, before starting what shares it. Disposing stops the servers first (the clients' teardown is then
/// instant), then the clients.
/// </summary>
internal sealed class CaseRoom : IAsyncDisposable
{
    private static readonly TimeSpan ConnectDeadline = TimeSpan.FromSeconds(60);
    private readonly List<IRoomServer> _servers = [];

    private CaseRoom(BroadcastCase c) => Case = c;

    public BroadcastCase Case { get; }

    /// <summary>The connected room; null when <see cref="NotRun"/> says why.</summary>
    public Room? Room { get; private set; }

    /// <summary>"not run: &lt;why&gt;", or null when the room is ready.</summary>
    public string? NotRun { get; private set; }

    public static async Task<CaseRoom> StartAsync(BroadcastCase c, RedisServerProcess? redis, string roomName, TextWriter progress)
    {
        var started = new CaseRoom(c);
        try
        {
            try
            {
                for (var i = 0; i < c.Servers; i++)
                {
                    started._servers.Add(c.Framework == BroadcastFramework.Django
                        ? await DaphneServer.StartAsync(redis!.Port)
                        : await ServerProcess.StartAsync(c.Framework, c.LayerCapacity, c.Framework.NeedsRedis() ? redis!.Url : null));
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
            {
                started.NotRun = $"not run: a server did not start: {ex.Message}";
                return started;
            }

            var room = new Room(started._servers, roomName);
            started.Room = room;
            var connect = await room.ConnectAsync(c.Load.Clients, ConnectDeadline);
            progress.WriteLine($"    [{c.Id}] server pid(s) {string.Join(", ", started._servers.Select(static s => s.ProcessId))}: {connect.Connected}/{connect.Requested} clients joined in {connect.Elapsed.TotalSeconds:F1} s");
            if (connect.Connected != c.Load.Clients)
            {
                started.NotRun = $"not run: only {connect.Connected} of {c.Load.Clients} clients connected ({connect.FirstError})";
            }

            return started;
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        if (Room is not null)
        {
            await Room.DisposeAsync();
        }
    }
}
