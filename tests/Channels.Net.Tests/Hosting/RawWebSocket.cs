using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// A hand-written WebSocket client over a plain TCP connection, for what <see cref="System.Net.WebSockets.ClientWebSocket"/>
/// cannot do: repeat a request header, send any frame, hold a refused connection open, or vanish.
/// </summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp, int status, List<KeyValuePair<string, string>> headers)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        Status = status;
        ResponseHeaders = headers;
    }

    public int Status { get; }

    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_tcp.Client.LocalEndPoint!;

    /// <summary>Sends the upgrade request for <paramref name="target"/> with <paramref name="headers"/> (repeats allowed) and reads the answer's head.</summary>
    /// <param name="receiveBufferSize">The client socket's kernel receive buffer, when a test needs it small (a client that stops reading).</param>
    public static async Task<RawWebSocket> ConnectAsync(int port, string target, IEnumerable<(string Name, string Value)>? headers = null, int? receiveBufferSize = null)
    {
        var tcp = new TcpClient(AddressFamily.InterNetwork);
        if (receiveBufferSize is { } size)
        {
            tcp.ReceiveBufferSize = size;
        }

        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port, Limits.Token()).Within();
            var request = new StringBuilder()
                .Append("GET ").Append(target).Append(" HTTP/1.1\r\n")
                .Append("Host: 127.0.0.1:").Append(port).Append("\r\n")
                .Append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                .Append("Sec-WebSocket-Key: ").Append(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))).Append("\r\n")
                .Append("Sec-WebSocket-Version: 13\r\n");
            foreach (var (name, value) in headers ?? [])
            {
                request.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            request.Append("\r\n");
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), Limits.Token()).Within();

            // Read the response head byte by byte so no frame byte is consumed.
            var head = new List<byte>();
            var one = new byte[1];
            while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
            {
                if (await stream.ReadAsync(one, Limits.Token()).Within() == 0)
                {
                    throw new IOException("The server closed the connection during the handshake.");
                }

                head.Add(one[0]);
            }

            var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var parsed = lines.Skip(1)
                .Select(l => l.Split(':', 2))
                .Select(p => new KeyValuePair<string, string>(p[0].Trim().ToLowerInvariant(), p[1].Trim()))
                .ToList();
            return new RawWebSocket(tcp, status, parsed);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends one masked frame.</summary>
    public async Task SendFrameAsync(byte opcode, byte[] payload, bool fin = true)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        await _stream.WriteAsync(frame.ToArray(), Limits.Token()).Within();
    }

    public Task SendTextAsync(string text) => SendFrameAsync(0x1, Encoding.UTF8.GetBytes(text));

    /// <summary>Reads one frame from the server (unmasked).</summary>
    public async Task<(bool Fin, byte Opcode, byte[] Payload)> ReadFrameAsync()
    {
        var head = await ReadExactlyAsync(2);
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2));
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8));
        }

        return ((head[0] & 0x80) != 0, (byte)(head[0] & 0x0F), await ReadExactlyAsync((int)length));
    }

    /// <summary>Reads frames until a text frame and returns its text (pings are skipped).</summary>
    public async Task<string> ReadTextAsync()
    {
        while (true)
        {
            var (_, opcode, payload) = await ReadFrameAsync();
            if (opcode == 0x1)
            {
                return Encoding.UTF8.GetString(payload);
            }

            Assert.True(opcode is 0x9 or 0xA, $"Expected a text frame, got opcode {opcode}");
        }
    }

    /// <summary>True once the server closed the TCP connection (a read returns 0 or fails).</summary>
    public async Task<bool> ServerClosedAsync()
    {
        var buffer = new byte[1024];
        try
        {
            while (await _stream.ReadAsync(buffer, Limits.Token()).Within() > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Drops the TCP connection with a reset, as a client that vanishes.</summary>
    public void Vanish()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Client.Close();
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, Limits.Token()).AsTask().Within();
        return buffer;
    }
}
