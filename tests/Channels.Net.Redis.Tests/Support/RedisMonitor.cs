using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>
/// A <c>MONITOR</c> connection to a test server: records every command the server runs, telling the requests
/// clients sent apart from the commands Lua scripts ran (<c>[0 lua]</c>).
/// </summary>
public sealed class RedisMonitor : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly Task _reader;

    private RedisMonitor(TcpClient client)
    {
        _client = client;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and starts monitoring (returns once the server said OK).</summary>
    public static async Task<RedisMonitor> StartAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync("MONITOR\r\n"u8.ToArray());
        var ok = new byte[5];
        await stream.ReadExactlyAsync(ok);
        if (Encoding.ASCII.GetString(ok) != "+OK\r\n")
        {
            client.Dispose();
            throw new InvalidOperationException($"MONITOR answered '{Encoding.ASCII.GetString(ok)}'.");
        }

        return new RedisMonitor(client);
    }

    /// <summary>
    /// How many requests (not Lua's commands) named <paramref name="command"/> the server ran with
    /// <paramref name="argument"/> among their arguments, once the server has been quiet for a moment.
    /// </summary>
    public async Task<int> RequestsAsync(string command, string argument)
    {
        await SettleAsync();
        var quotedCommand = $"\"{command.ToLowerInvariant()}\"";
        var quotedArgument = $"\"{argument}\"";
        return _lines.Count(l => !l.Contains("[0 lua]", StringComparison.Ordinal)
            && l.Contains("] " + quotedCommand, StringComparison.OrdinalIgnoreCase)
            && l.Contains(quotedArgument, StringComparison.Ordinal));
    }

    /// <summary>
    /// How many commands named <paramref name="command"/> scripts ran with <paramref name="argument"/> among their
    /// arguments, once the server has been quiet for a moment.
    /// </summary>
    public async Task<int> ScriptCommandsAsync(string command, string argument)
    {
        await SettleAsync();
        var quotedCommand = $"\"{command.ToLowerInvariant()}\"";
        var quotedArgument = $"\"{argument}\"";
        return _lines.Count(l => l.Contains(" lua] " + quotedCommand, StringComparison.OrdinalIgnoreCase)
            && l.Contains(quotedArgument, StringComparison.Ordinal));
    }

    /// <summary>How many requests (not Lua's commands) the server ran with an argument that contains
    /// <paramref name="part"/>, once the server has been quiet for a moment.</summary>
    public async Task<int> RequestsMentioningAsync(string part)
    {
        await SettleAsync();
        return _lines.Count(l => !l.Contains("[0 lua]", StringComparison.Ordinal) && l.Contains(part, StringComparison.Ordinal));
    }

    /// <summary>Forgets what was recorded so far (after the server has been quiet for a moment).</summary>
    public async Task ClearAsync()
    {
        await SettleAsync();
        _lines.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>Waits until no line arrived for 100 ms (what the server ran has reached the monitor).</summary>
    private async Task SettleAsync()
    {
        var count = -1;
        while (count != _lines.Count)
        {
            count = _lines.Count;
            await Task.Delay(100);
        }
    }

    private async Task ReadAsync()
    {
        using var reader = new StreamReader(_client.GetStream(), Encoding.UTF8);
        while (!_stop.IsCancellationRequested && await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            _lines.Enqueue(line);
        }
    }
}
