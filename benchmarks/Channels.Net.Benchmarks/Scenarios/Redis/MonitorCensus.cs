using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// Counts, through Redis's MONITOR, which commands clients sent (each one a request on the wire) and
/// which ran inside Lua scripts (MONITOR tags them <c>[0 lua]</c>): INFO commandstats counts both alike.
/// MONITOR slows the server down, so a census is taken only during an untimed warm-up round.
/// </summary>
public sealed class MonitorCensus : IAsyncDisposable
{
    private const int MaxPrefix = 160;

    private readonly Socket _socket;
    private readonly string _marker;
    private readonly Task _reader;
    private readonly CancellationTokenSource _stop = new();
    private long _clientCommands;
    private long _scriptCommands;
    private volatile bool _sawMarker;

    private MonitorCensus(Socket socket, string marker)
    {
        _socket = socket;
        _marker = marker;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Requests clients sent (housekeeping such as INFO or PING left out).</summary>
    public long ClientCommands => Interlocked.Read(ref _clientCommands);

    /// <summary>Commands Lua scripts ran.</summary>
    public long ScriptCommands => Interlocked.Read(ref _scriptCommands);

    public static async Task<MonitorCensus> StartAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).ConfigureAwait(false);
        await socket.SendAsync("MONITOR\r\n"u8.ToArray()).ConfigureAwait(false);
        var ok = new byte[5];
        var read = 0;
        while (read < ok.Length)
        {
            var n = await socket.ReceiveAsync(ok.AsMemory(read)).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidOperationException("MONITOR connection closed.");
            }

            read += n;
        }

        if (!ok.AsSpan().SequenceEqual("+OK\r\n"u8))
        {
            throw new InvalidOperationException($"MONITOR answered '{Encoding.ASCII.GetString(ok)}'.");
        }

        return new MonitorCensus(socket, "channels-net-census-" + Guid.NewGuid().ToString("N"));
    }

    /// <summary>Marks the end of the census (an ECHO through <paramref name="server"/>) and waits until MONITOR has shown everything before it.</summary>
    public async Task StopAsync(RedisServerProcess server, TimeSpan timeout)
    {
        await server.EchoAsync(_marker).ConfigureAwait(false);
        await _reader.WaitAsync(timeout).ConfigureAwait(false);
        if (!_sawMarker)
        {
            throw new InvalidOperationException("The MONITOR census ended without seeing its end marker.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 16];
        var prefix = new byte[MaxPrefix];
        var prefixLength = 0;
        var skipping = false;
        while (!_stop.IsCancellationRequested)
        {
            var n = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            for (var i = 0; i < n; i++)
            {
                var b = buffer[i];
                if (b == (byte)'\n')
                {
                    if (Count(prefix.AsSpan(0, prefixLength)))
                    {
                        _sawMarker = true;
                        return;
                    }

                    prefixLength = 0;
                    skipping = false;
                }
                else if (!skipping)
                {
                    prefix[prefixLength++] = b;
                    skipping = prefixLength == MaxPrefix;
                }
            }
        }
    }

    /// <summary>Counts one MONITOR line; true when it is the end marker.</summary>
    private bool Count(ReadOnlySpan<byte> line)
    {
        // +1700000000.123456 [0 127.0.0.1:60866] "evalsha" "..." ...   or   [0 lua] "zadd" ...
        var open = line.IndexOf((byte)'[');
        var close = line.IndexOf("] \""u8);
        if (open < 0 || close < open)
        {
            return false;
        }

        var text = Encoding.ASCII.GetString(line[(close + 3)..]);
        if (text.Contains(_marker, StringComparison.Ordinal))
        {
            return true;
        }

        var end = text.IndexOf('"', StringComparison.Ordinal);
        var name = (end < 0 ? text : text[..end]).ToLowerInvariant();
        if (CommandCounts.IsHousekeeping(name))
        {
            return false;
        }

        if (line[open..close].EndsWith(" lua"u8))
        {
            Interlocked.Increment(ref _scriptCommands);
        }
        else
        {
            Interlocked.Increment(ref _clientCommands);
        }

        return false;
    }
}
