using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Channels.Net.Redis.Connections;

/// <summary>
/// One Redis host of a layer: a multiplexed connection for every non-blocking command, and a pool
/// of dedicated connections for blocking pops (a blocking command must never hold up the shared
/// pipeline). Connections are made on first use and re-established by StackExchange.Redis after an
/// outage; while a host is down, commands fail at once (<see cref="BacklogPolicy.FailFast"/>) rather than hang.
/// </summary>
/// <remarks>
/// For a Sentinel host (<see cref="RedisHost.MasterName"/>), <see cref="SentinelMaster"/> says where the
/// master is. Every connection is made to that address; when the master moves, the command connection
/// is replaced at once (the old one is closed a little later, so a command already handed its database
/// still completes or fails cleanly), idle blocking connections to the old master are closed, and a
/// rented one is no longer <see cref="IsCurrent">current</see>: its holder gives it back after its pop
/// and rents one to the new master.
/// </remarks>
internal sealed class RedisShard : IAsyncDisposable
{
    /// <summary>How long a replaced command connection stays open for commands already under way.</summary>
    private static readonly TimeSpan s_retireDelay = TimeSpan.FromSeconds(5);

    /// <summary>How often the sentinels are asked again while the master cannot be reached.</summary>
    private static readonly TimeSpan s_recheckInterval = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions _options;
    private readonly int _database;
    private readonly TimeSpan _blockTimeout;
    private readonly ILogger _logger;
    private readonly SentinelMaster? _sentinel;
    private readonly Timer? _recheck;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly ConcurrentBag<ConnectionMultiplexer> _idleBlocking = [];

    /// <summary>Every blocking connection made, with the master it was made to (null for a plain host).</summary>
    private readonly ConcurrentDictionary<ConnectionMultiplexer, EndPoint?> _allBlocking = new();
    private readonly ConcurrentDictionary<Task, bool> _retiring = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly string _receiveClientName;
    private ConnectionMultiplexer? _commands;
    private volatile bool _disposed;

    /// <param name="host">The host (or Sentinel set, or first cluster seed).</param>
    /// <param name="index">The host's place in the layer's host list.</param>
    /// <param name="connectTimeout">How long a connection attempt may take.</param>
    /// <param name="blockTimeout">The longest blocking pop on a blocking connection.</param>
    /// <param name="logger">The layer's logger.</param>
    /// <param name="client">The layer's client prefix: part of every connection's client name (<c>CLIENT LIST</c> shows
    /// <c>channels.net.{client}</c> for commands and <c>channels.net.receive.{client}</c> for blocking pops), so an
    /// operator (or a test) can tell which layer a connection belongs to.</param>
    /// <param name="clusterSeeds">Every seed node of a Redis Cluster; null for one host.</param>
    public RedisShard(RedisHost host, int index, TimeSpan connectTimeout, TimeSpan blockTimeout, ILogger logger, string client, IReadOnlyList<RedisHost>? clusterSeeds = null)
    {
        Host = host;
        Index = index;
        (_options, _database) = RedisAddress.ToConfiguration(host);
        if (clusterSeeds is not null)
        {
            // A Redis Cluster: every seed node (host is the first); StackExchange.Redis finds the rest.
            ClusterSeeds.AddOtherSeeds(_options, clusterSeeds);
        }

        _options.AbortOnConnectFail = false;
        _options.ConnectTimeout = (int)connectTimeout.TotalMilliseconds;
        _options.BacklogPolicy = BacklogPolicy.FailFast;

        // StackExchange.Redis refuses CLIENT without it (a client-side check; the server's ACLs still apply): the
        // receive pump asks its blocking connection's CLIENT ID and wakes it with CLIENT UNBLOCK when a key is added.
        _options.AllowAdmin = true;
        _options.ClientName = "channels.net." + client;
        _receiveClientName = "channels.net.receive." + client;
        _blockTimeout = blockTimeout;
        _logger = logger;
        if (_options.ServiceName is not null)
        {
            _sentinel = new SentinelMaster(_options, logger);
            _sentinel.Moved += OnMasterMoved;
            _recheck = new Timer(_ => Recheck(), null, Timeout.Infinite, Timeout.Infinite);

            // The sentinels are only asked; every data connection is made to the master they name.
            _options.ServiceName = null;
            _options.SentinelPassword = null;
            _options.EndPoints.Clear();
        }
    }

    public RedisHost Host { get; }

    public int Index { get; }

    /// <summary>The database for ordinary commands.</summary>
    public async ValueTask<IDatabase> CommandsAsync()
    {
        var commands = _commands ?? await ConnectCommandsAsync().ConfigureAwait(false);
        return commands.GetDatabase(_database);
    }

    /// <summary>A dedicated connection for one blocking pop; give it back with <see cref="ReturnBlocking"/>.</summary>
    public async ValueTask<ConnectionMultiplexer> RentBlockingAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_idleBlocking.TryTake(out var idle))
        {
            if (IsCurrent(idle))
            {
                return idle;
            }

            await DropAsync(idle).ConfigureAwait(false);
        }

        // The command timeout must outlast the blocking pop it carries.
        var timeout = (int)(_blockTimeout + TimeSpan.FromSeconds(5)).TotalMilliseconds;
        var (connection, master) = await ConnectAsync(_receiveClientName, timeout).ConfigureAwait(false);
        _allBlocking[connection] = master;
        if (_disposed)
        {
            await DropAsync(connection).ConfigureAwait(false);
            ObjectDisposedException.ThrowIf(true, this);
        }

        if (_sentinel is not null)
        {
            connection.ConnectionFailed += (_, _) => _sentinel.RequestRefresh();
        }

        return connection;
    }

    /// <summary>
    /// False once the master of a Sentinel host has moved away from where <paramref name="connection"/>
    /// (a blocking connection of this shard) points: give it back and rent another. Always true for a plain host.
    /// </summary>
    public bool IsCurrent(ConnectionMultiplexer connection) =>
        _sentinel is null || (_allBlocking.TryGetValue(connection, out var master) && Equals(master, _sentinel.Current));

    public void ReturnBlocking(ConnectionMultiplexer connection)
    {
        if (_disposed)
        {
            return; // DisposeAsync closes every connection.
        }

        if (IsCurrent(connection))
        {
            _idleBlocking.Add(connection);
        }
        else
        {
            _ = DropAsync(connection);
        }
    }

    public IDatabase Database(ConnectionMultiplexer connection) => connection.GetDatabase(_database);

    /// <summary>
    /// True for a failure that means the host cannot serve the command now, rather than a bad command:
    /// no connection, a timeout, or a server that is no longer (or not yet) a writable master
    /// (<c>READONLY</c>, <c>UNBLOCKED</c> when a master turns replica under a blocking pop, <c>MASTERDOWN</c>,
    /// <c>LOADING</c>), as during a Sentinel failover, or one refusing writes it cannot replicate (<c>NOREPLICAS</c>).
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException server => server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("UNBLOCKED", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("NOREPLICAS", StringComparison.Ordinal),
        _ => false,
    };

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_recheck is not null)
        {
            await _recheck.DisposeAsync().ConfigureAwait(false);
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_retiring.Keys).ConfigureAwait(false);
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_commands is not null)
            {
                await _commands.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connectLock.Release();
        }

        foreach (var connection in _allBlocking.Keys)
        {
            // A blocking pop in flight ends now (it takes nothing once its client is gone), rather than holding
            // the layer's disposal, and so the application's shutdown, for up to the blocking-pop timeout.
            await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        if (_sentinel is not null)
        {
            await _sentinel.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<ConnectionMultiplexer> ConnectCommandsAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_commands is null)
            {
                var (connection, master) = await ConnectAsync(_options.ClientName!, asyncTimeout: null).ConfigureAwait(false);
                if (_sentinel is not null && !Equals(master, _sentinel.Current))
                {
                    // The master moved while this connection was being made.
                    await connection.DisposeAsync().ConfigureAwait(false);
                    continue;
                }

                connection.ConnectionFailed += (_, e) =>
                {
                    ConnectionLog.ConnectionFailed(_logger, Host.ToString(), e.FailureType.ToString(), e.Exception?.Message ?? "");
                    _sentinel?.RequestRefresh();
                    StartRecheck();
                };
                connection.ConnectionRestored += (_, _) => ConnectionLog.ConnectionRestored(_logger, Host.ToString());
                _commands = connection;
            }

            return _commands;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Connects to the host, or for a Sentinel host to the master the sentinels name now.</summary>
    /// <exception cref="RedisConnectionException">No sentinel answered, none knows the master, or the master named is a replica.</exception>
    private async Task<(ConnectionMultiplexer Connection, EndPoint? Master)> ConnectAsync(string clientName, int? asyncTimeout)
    {
        var options = _options.Clone();
        options.ClientName = clientName;
        if (asyncTimeout is { } timeout)
        {
            options.AsyncTimeout = timeout;
            options.SyncTimeout = timeout;
        }

        if (_sentinel is null)
        {
            return (await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false), null);
        }

        var master = _sentinel.Current ?? await _sentinel.LocateAsync().ConfigureAwait(false);
        options.EndPoints.Add(master);
        var connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        if (connection.IsConnected && connection.GetServer(master).IsReplica)
        {
            // The sentinels' answer is behind (a failover under way): never write to a replica.
            await connection.DisposeAsync().ConfigureAwait(false);
            SentinelLog.MasterIsReplica(_logger, _sentinel.Name, SentinelMaster.Format(master));
            _sentinel.RequestRefresh();
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"{SentinelMaster.Format(master)}, named by the sentinels as master '{_sentinel.Name}', is a replica.");
        }

        return (connection, master);
    }

    /// <summary>The sentinels named a new master: new commands go there, idle connections to the old one close.</summary>
    private void OnMasterMoved(EndPoint from, EndPoint to)
    {
        if (_disposed)
        {
            return;
        }

        if (Interlocked.Exchange(ref _commands, null) is { } old)
        {
            var retiring = RetireAsync(old);
            _retiring[retiring] = true;
            _ = retiring.ContinueWith(t => _retiring.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        var keep = new List<ConnectionMultiplexer>();
        while (_idleBlocking.TryTake(out var idle))
        {
            if (IsCurrent(idle))
            {
                keep.Add(idle);
            }
            else
            {
                _ = DropAsync(idle);
            }
        }

        foreach (var connection in keep)
        {
            _idleBlocking.Add(connection);
        }
    }

    private async Task RetireAsync(ConnectionMultiplexer connection)
    {
        try
        {
            await Task.Delay(s_retireDelay, _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task DropAsync(ConnectionMultiplexer connection)
    {
        if (_allBlocking.TryRemove(connection, out _))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>While the command connection is down, ask the sentinels every second whether the master moved.</summary>
    private void StartRecheck() => ChangeRecheck(s_recheckInterval);

    private void Recheck()
    {
        if (_commands is { IsConnected: true })
        {
            ChangeRecheck(Timeout.InfiniteTimeSpan);
            return;
        }

        _sentinel!.RequestRefresh();
    }

    private void ChangeRecheck(TimeSpan period)
    {
        if (_recheck is null || _disposed)
        {
            return;
        }

        try
        {
            _recheck.Change(period, period);
        }
        catch (ObjectDisposedException)
        {
            // The shard was disposed meanwhile.
        }
    }
}
