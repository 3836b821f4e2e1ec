using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Channels.Net.Redis;

/// <summary>
/// One Redis host of a layer: a multiplexed connection for every non-blocking command, and a pool
/// of dedicated connections for blocking pops (a blocking command must never hold up the shared
/// pipeline). Connections are made on first use and re-established by StackExchange.Redis after an
/// outage; while a host is down, commands fail at once (<see cref="BacklogPolicy.FailFast"/>) rather than hang.
/// </summary>
internal sealed class RedisShard : IAsyncDisposable
{
    private readonly ConfigurationOptions _options;
    private readonly int _database;
    private readonly TimeSpan _blockTimeout;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly ConcurrentBag<ConnectionMultiplexer> _idleBlocking = [];
    private readonly ConcurrentBag<ConnectionMultiplexer> _allBlocking = [];
    private ConnectionMultiplexer? _commands;
    private volatile bool _disposed;

    public RedisShard(RedisHost host, int index, TimeSpan connectTimeout, TimeSpan blockTimeout, ILogger logger)
    {
        Host = host;
        Index = index;
        (_options, _database) = RedisAddress.ToConfiguration(host);
        _options.AbortOnConnectFail = false;
        _options.ConnectTimeout = (int)connectTimeout.TotalMilliseconds;
        _options.BacklogPolicy = BacklogPolicy.FailFast;
        _options.ClientName = "channels.net";
        _blockTimeout = blockTimeout;
        _logger = logger;
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
        if (_idleBlocking.TryTake(out var idle))
        {
            return idle;
        }

        var options = _options.Clone();
        options.ClientName = "channels.net.receive";

        // The command timeout must outlast the blocking pop it carries.
        options.AsyncTimeout = (int)(_blockTimeout + TimeSpan.FromSeconds(5)).TotalMilliseconds;
        options.SyncTimeout = options.AsyncTimeout;
        var connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        _allBlocking.Add(connection);
        return connection;
    }

    public void ReturnBlocking(ConnectionMultiplexer connection)
    {
        if (!_disposed)
        {
            _idleBlocking.Add(connection);
        }
    }

    public IDatabase Database(ConnectionMultiplexer connection) => connection.GetDatabase(_database);

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_commands is not null)
        {
            await _commands.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var connection in _allBlocking)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _connectLock.Dispose();
    }

    private async ValueTask<ConnectionMultiplexer> ConnectCommandsAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_commands is null)
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(_options).ConfigureAwait(false);
                connection.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(_logger, Host.ToString(), e.FailureType.ToString(), e.Exception?.Message ?? "");
                connection.ConnectionRestored += (_, _) => RedisLog.ConnectionRestored(_logger, Host.ToString());
                _commands = connection;
            }

            return _commands;
        }
        finally
        {
            _connectLock.Release();
        }
    }
}
