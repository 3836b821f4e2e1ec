using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace Channels.Net.Tests.Hosting;

/// <summary>One whole message (or the close) as a <see cref="ClientWebSocket"/> received it.</summary>
internal sealed record Received(WebSocketMessageType Type, byte[] Data, WebSocketCloseStatus? CloseStatus = null, string? CloseDescription = null)
{
    public string Text => Encoding.UTF8.GetString(Data);

    public int Code => (int)(CloseStatus ?? 0);
}

/// <summary>A <see cref="ClientWebSocket"/> with every operation bounded by <see cref="Limits.Step"/>.</summary>
internal sealed class WsClient : IAsyncDisposable
{
    private WsClient(ClientWebSocket socket)
    {
        Socket = socket;
    }

    public ClientWebSocket Socket { get; }

    public static ClientWebSocket Create(IEnumerable<string>? subprotocols = null, IEnumerable<KeyValuePair<string, string>>? headers = null, CookieContainer? cookies = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var protocol in subprotocols ?? [])
        {
            socket.Options.AddSubProtocol(protocol);
        }

        foreach (var (name, value) in headers ?? [])
        {
            socket.Options.SetRequestHeader(name, value);
        }

        socket.Options.Cookies = cookies;
        return socket;
    }

    public static async Task<WsClient> ConnectAsync(Uri uri, IEnumerable<string>? subprotocols = null, IEnumerable<KeyValuePair<string, string>>? headers = null, CookieContainer? cookies = null)
    {
        var socket = Create(subprotocols, headers, cookies);
        try
        {
            await socket.ConnectAsync(uri, Limits.Token()).Within();
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new WsClient(socket);
    }

    /// <summary>Connects expecting a refusal; returns the HTTP status of the handshake answer.</summary>
    public static async Task<HttpStatusCode> RefusedAsync(Uri uri, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        using var socket = Create(headers: headers);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, Limits.Token()).Within());
        return socket.HttpStatusCode;
    }

    public Task SendAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Limits.Token()).Within();

    public Task SendAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary, bool endOfMessage = true) =>
        Socket.SendAsync(bytes, type, endOfMessage, Limits.Token()).Within();

    /// <summary>The next whole message, or the close frame.</summary>
    public async Task<Received> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Limits.Step);
        using var data = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer, cts.Token).WaitAsync(Limits.Step, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new Received(WebSocketMessageType.Close, [], result.CloseStatus, result.CloseStatusDescription);
            }

            data.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return new Received(result.MessageType, data.ToArray());
            }
        }
    }

    public async Task<string> ReceiveTextAsync()
    {
        var message = await ReceiveAsync();
        Assert.True(message.Type == WebSocketMessageType.Text, $"Expected a text message, got {message.Type} {message.CloseStatus} {message.CloseDescription}");
        return message.Text;
    }

    /// <summary>Receives until the server's close frame and returns it.</summary>
    public async Task<Received> ReceiveCloseAsync()
    {
        while (true)
        {
            var message = await ReceiveAsync();
            if (message.Type == WebSocketMessageType.Close)
            {
                return message;
            }
        }
    }

    /// <summary>Completes the close handshake the client started or answers the server's.</summary>
    public Task CloseAsync(WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure, string? description = null) =>
        Socket.CloseAsync(status, description, Limits.Token()).Within();

    public ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
