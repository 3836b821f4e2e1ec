using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Channels.Net.Redis.Connections;

/// <summary>
/// Where a Sentinel-watched master is, and when it moves. Each sentinel gets its own connection (made
/// on first use, re-established by StackExchange.Redis) and is asked with <c>SENTINEL MASTER</c>; of
/// the answers, the highest configuration epoch wins, so a sentinel that has not yet seen a failover
/// cannot move the layer back to the old master. Every sentinel's <c>+switch-master</c> announcement,
/// a reconnected sentinel, and a lost connection to the master (through <see cref="RequestRefresh"/>)
/// make it ask again.
/// </summary>
/// <remarks>
/// StackExchange.Redis's own Sentinel connect is not used: it connects synchronously, caches one master
/// connection per service name (the layer needs a pool of dedicated connections for blocking pops),
/// leaves its sentinel connection behind when the master cannot be found, and reconfigures synchronously
/// in a failure handler. One connection per sentinel, rather than one for all, because a multiplexer
/// waits its whole connect timeout for an endpoint that refused it too early (seen with 3.4.35), and a
/// listed sentinel that is down must not delay the others.
/// </remarks>
internal sealed class SentinelMaster : IAsyncDisposable
{
    private static readonly RedisChannel s_switchMaster = RedisChannel.Literal("+switch-master");
    private readonly ConfigurationOptions _options;
    private readonly EndPoint[] _endPoints;
    private readonly string _name;
    private readonly string _sentinelList;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _locateLock = new(1, 1);
    private readonly ConcurrentDictionary<EndPoint, string> _reasons = new();
    private Task<ConnectionMultiplexer>[]? _sentinels;
    private volatile EndPoint? _master;
    private long _epoch = -1;
    private int _refreshPending;
    private volatile bool _disposed;

    /// <summary>Creates the finder; <paramref name="options"/> are <see cref="RedisAddress.ToConfiguration"/>'s for a Sentinel host.</summary>
    public SentinelMaster(ConfigurationOptions options, ILogger logger)
    {
        _name = options.ServiceName ?? throw new ArgumentException("A Sentinel host needs a master name.", nameof(options));
        _endPoints = [.. options.EndPoints];
        _sentinelList = string.Join(", ", _endPoints.Select(Format));
        _options = options.Clone();
        _options.EndPoints.Clear();
        _options.Password = options.SentinelPassword;
        _options.User = options.SentinelUser;
        _options.BacklogPolicy = BacklogPolicy.FailFast;
        _options.AbortOnConnectFail = false;

        // One connect attempt (the connection keeps retrying in the background): with the default three, a
        // first operation against sentinels that are all down would wait three connect timeouts.
        _options.ConnectRetry = 1;
        _options.ClientName = "channels.net.sentinel";

        // A plain connection with Sentinel's command set (see the remarks).
        _options.ServiceName = null;
        _options.CommandMap = CommandMap.Sentinel;
        _logger = logger;
    }

    /// <summary>Raised when the sentinels name a new master (old, new), before the move is logged; handlers must not block.</summary>
    public event Action<EndPoint, EndPoint>? Moved;

    /// <summary>The master's name in the sentinels' configuration.</summary>
    public string Name => _name;

    /// <summary>The master last found, or null before the first answer.</summary>
    public EndPoint? Current => _master;

    /// <summary>
    /// Asks the sentinels where the master is now (connecting to them first if need be), records the
    /// answer and announces a move.
    /// </summary>
    /// <exception cref="RedisConnectionException">No sentinel answered, or none knows the master (the message says which and why).</exception>
    public async Task<EndPoint> LocateAsync()
    {
        var sentinels = Connect();
        await _locateLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var (answer, epoch) = await AskAsync(sentinels).ConfigureAwait(false);
            var before = _master;
            if (before is not null && epoch < _epoch)
            {
                return before; // A sentinel behind the others: keep what a newer epoch said.
            }

            _epoch = epoch;
            _master = answer;
            if (before is null)
            {
                SentinelLog.MasterFound(_logger, _name, Format(answer), _sentinelList);
            }
            else if (!before.Equals(answer))
            {
                // Handlers run before the move is logged: once it is, the layer is on the new master.
                Moved?.Invoke(before, answer);
                SentinelLog.MasterMoved(_logger, _name, Format(before), Format(answer));
            }

            return answer;
        }
        finally
        {
            _locateLock.Release();
        }
    }

    /// <summary>Asks the sentinels again in the background; requests made while one is pending are merged.</summary>
    public void RequestRefresh()
    {
        if (_disposed || _sentinels is null || Interlocked.Exchange(ref _refreshPending, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            Volatile.Write(ref _refreshPending, 0);
            try
            {
                await LocateAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                if (!_disposed)
                {
                    SentinelLog.RefreshFailed(_logger, _name, ex.Message);
                }
            }
        });
    }

    /// <summary>The endpoint as <c>host:port</c>.</summary>
    public static string Format(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.ToString(),
        DnsEndPoint dns => $"{dns.Host}:{dns.Port.ToString(CultureInfo.InvariantCulture)}",
        _ => endPoint.ToString() ?? "",
    };

    /// <summary>Closes the sentinel connections (one still connecting closes itself when its connect ends).</summary>
    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>[]? sentinels;
        lock (_gate)
        {
            _disposed = true;
            sentinels = _sentinels;
        }

        foreach (var sentinel in sentinels ?? [])
        {
            if (sentinel.IsCompletedSuccessfully)
            {
                await sentinel.Result.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts one connection per sentinel, once.</summary>
    private Task<ConnectionMultiplexer>[] Connect()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _sentinels ??= [.. _endPoints.Select(ConnectAsync)];
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(EndPoint endPoint)
    {
        var options = _options.Clone();
        options.EndPoints.Add(endPoint);
        var sentinel = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        sentinel.ConnectionRestored += (_, _) => RequestRefresh();
        sentinel.GetSubscriber().Subscribe(s_switchMaster, OnSwitchMaster, CommandFlags.FireAndForget);
        if (_disposed)
        {
            // DisposeAsync ran while this was connecting: it could not close it.
            await sentinel.DisposeAsync().ConfigureAwait(false);
        }

        return sentinel;
    }

    /// <summary><c>+switch-master {name} {old ip} {old port} {new ip} {new port}</c>: ask which master is current.</summary>
    private void OnSwitchMaster(RedisChannel channel, RedisValue message)
    {
        var text = (string?)message ?? "";
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && text.AsSpan(0, space).SequenceEqual(_name))
        {
            RequestRefresh();
        }
    }

    /// <summary>
    /// The view of every sentinel connected by now (waiting for the first to connect, or for all to
    /// fail); one still connecting is skipped. The highest configuration epoch wins.
    /// </summary>
    private async Task<(EndPoint Master, long Epoch)> AskAsync(Task<ConnectionMultiplexer>[] sentinels)
    {
        var connecting = sentinels.Where(t => !t.IsCompleted).ToList();
        while (connecting.Count > 0 && !sentinels.Any(IsConnected))
        {
            connecting.Remove(await Task.WhenAny(connecting).ConfigureAwait(false));
        }

        var answers = await Task.WhenAll(sentinels.Select((s, i) => AskOneAsync(s, _endPoints[i]))).ConfigureAwait(false);
        EndPoint? master = null;
        var epoch = long.MinValue;
        foreach (var answer in answers)
        {
            if (answer.Master is not null && answer.Epoch > epoch)
            {
                (master, epoch) = (answer.Master, answer.Epoch);
            }
        }

        if (master is not null)
        {
            return (master, epoch);
        }

        if (answers.Any(a => a.Unknown))
        {
            var asked = string.Join(", ", answers.Where(a => a.Unknown).Select(a => a.Sentinel));
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"no sentinel knows a master named '{_name}' (asked {asked}); check MasterName against the sentinels' 'sentinel monitor' lines.");
        }

        var reasons = string.Join("; ", answers.Select(a => $"{a.Sentinel}: {a.Error}"));
        throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"no sentinel could be reached for master '{_name}' (sentinels: {_sentinelList}): {reasons}.");
    }

    private static bool IsConnected(Task<ConnectionMultiplexer> sentinel) => sentinel.IsCompletedSuccessfully && sentinel.Result.IsConnected;

    private async Task<(string Sentinel, EndPoint? Master, long Epoch, bool Unknown, string? Error)> AskOneAsync(Task<ConnectionMultiplexer> connecting, EndPoint endPoint)
    {
        var sentinel = Format(endPoint);
        if (!connecting.IsCompleted)
        {
            return (sentinel, null, -1, false, "still connecting");
        }

        try
        {
            var connection = await connecting.ConfigureAwait(false);
            var fields = await connection.GetServer(endPoint).SentinelMasterAsync(_name).ConfigureAwait(false);
            string? ip = null, port = null, epoch = null;
            foreach (var field in fields)
            {
                switch (field.Key)
                {
                    case "ip":
                        ip = field.Value;
                        break;
                    case "port":
                        port = field.Value;
                        break;
                    case "config-epoch":
                        epoch = field.Value;
                        break;
                }
            }

            if (ip is null || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var portNumber))
            {
                return (sentinel, null, -1, false, $"no address for '{_name}' in its answer");
            }

            EndPoint master = IPAddress.TryParse(ip, out var address) ? new IPEndPoint(address, portNumber) : new DnsEndPoint(ip, portNumber);
            return (sentinel, master, long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : 0, false, null);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("No such master", StringComparison.OrdinalIgnoreCase))
        {
            return (sentinel, null, -1, true, ex.Message);
        }
        catch (RedisConnectionException ex)
        {
            // StackExchange.Redis's messages are long diagnostic dumps: keep the failure kind and its first cause.
            var kind = ex.FailureType;
            var cause = ex.InnerException;
            while (cause is RedisConnectionException inner)
            {
                kind = inner.FailureType;
                cause = inner.InnerException;
            }

            if (cause is not null)
            {
                var described = $"{kind} ({cause.Message})";
                _reasons[endPoint] = described;
                return (sentinel, null, -1, false, described);
            }

            // Without a cause (a reconnect under way), the last one seen says more.
            return (sentinel, null, -1, false, _reasons.TryGetValue(endPoint, out var last) ? $"{kind}; last failure: {last}" : kind.ToString());
        }
        catch (RedisException ex)
        {
            return (sentinel, null, -1, false, ex.Message);
        }
    }
}
