using System.Diagnostics;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>How opening a batch of connections went.</summary>
internal sealed record ConnectOutcome(int Requested, int Connected, int Failed, string? FirstError, TimeSpan Elapsed);

/// <summary>
/// The clients of one framework in one room, spread evenly over its servers (client i on server i mod n; with two
/// servers sharing the room through Redis, every other sender is on each), and the tracker that counts what they
/// receive. Disposing disposes the clients (not the servers).
/// </summary>
internal sealed class Room : IAsyncDisposable
{
    /// <summary>Connections opened at once while connecting many clients.</summary>
    public const int ConnectParallelism = 32;

    /// <summary>Stop opening connections after this many failures (do not hammer a server that refuses).</summary>
    private const int MaxFailures = 50;

    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false });
    private readonly List<BroadcastClient> _clients = [];
    private int _round;

    public Room(IRoomServer server, string name)
        : this([server], name)
    {
    }

    public Room(IReadOnlyList<IRoomServer> servers, string name)
    {
        ArgumentOutOfRangeException.ThrowIfZero(servers.Count);
        Servers = servers;
        Name = name;
    }

    public IReadOnlyList<IRoomServer> Servers { get; }

    /// <summary>The first server.</summary>
    public IRoomServer Server => Servers[0];

    public BroadcastFramework Framework => Server.Framework;

    public string Name { get; }

    public DeliveryTracker Tracker { get; } = new();

    public IReadOnlyList<BroadcastClient> Clients => _clients;

    /// <summary>A new round number for <see cref="DeliveryTracker.Begin"/> (messages carry it; late ones of an earlier round are told apart).</summary>
    public int NextRound() => ++_round;

    /// <summary>Opens <paramref name="count"/> more clients, <see cref="ConnectParallelism"/> at a time, each joined to
    /// the room when its task ends; stops at <paramref name="deadline"/> or after too many failures.</summary>
    public async Task<ConnectOutcome> ConnectAsync(int count, TimeSpan deadline)
    {
        var started = Stopwatch.GetTimestamp();
        var first = _clients.Count;
        using var stop = new CancellationTokenSource(deadline);
        var next = -1;
        var failed = 0;
        string? firstError = null;
        var connected = new BroadcastClient?[count]; // by index, so that client i is on server i mod n

        async Task WorkerAsync()
        {
            int index;
            while (!stop.IsCancellationRequested && (index = Interlocked.Increment(ref next)) < count && Volatile.Read(ref failed) < MaxFailures)
            {
                var client = BroadcastClient.Create(Framework, Tracker, _invoker);
                try
                {
                    await client.ConnectAsync(Servers[(first + index) % Servers.Count].BaseAddress, Name, stop.Token);
                    connected[index] = client;
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, $"{ex.GetType().Name}: {ex.Message}", null);
                    await client.DisposeAsync();
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(ConnectParallelism, Math.Max(count, 1))).Select(_ => Task.Run(WorkerAsync)));
        var opened = connected.OfType<BroadcastClient>().ToList();
        _clients.AddRange(opened);
        return new ConnectOutcome(count, opened.Count, failed, firstError, Stopwatch.GetElapsedTime(started));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await Parallel.ForEachAsync(_clients, new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism, CancellationToken = stop.Token }, static async (c, _) => await c.DisposeAsync());
        }
        catch (OperationCanceledException)
        {
            // Bounded: whatever is left is torn down with the process.
        }

        _clients.Clear();
        _invoker.Dispose();
    }
}
