using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>One client connection in a room, with its delivery counters (see <see cref="DeliveryTracker"/>).</summary>
internal abstract class BroadcastClient : IAsyncDisposable
{
    /// <summary>Senders whose order is checked (sender ids 0..MaxSenders-1).</summary>
    public const int MaxSenders = 64;

    private readonly DeliveryTracker _tracker;

    protected BroadcastClient(DeliveryTracker tracker)
    {
        _tracker = tracker;
    }

    public int Received { get; set; }

    public long LastDeliveryAt { get; set; }

    public int OutOfOrder { get; set; }

    /// <summary>Messages of another round (late ones of an earlier phase).</summary>
    public int Stale { get; set; }

    /// <summary>Messages that did not parse.</summary>
    public int Malformed { get; set; }

    public int[] LastSeq { get; } = new int[MaxSenders];

    /// <summary>A client that speaks what <paramref name="framework"/>'s page would: the chat text as is (Channels.Net's
    /// tutorial, the bare endpoint), <c>{"message": ...}</c> (Django's tutorial) or the SignalR client.</summary>
    public static BroadcastClient Create(BroadcastFramework framework, DeliveryTracker tracker, HttpMessageInvoker invoker) => framework switch
    {
        BroadcastFramework.ChannelsNet or BroadcastFramework.ChannelsNetRedis or BroadcastFramework.ChannelsNetPubSub
            => new RawWebSocketClient(tracker, invoker, ChatRouting.RoomPath, jsonMessage: false),
        BroadcastFramework.Django => new RawWebSocketClient(tracker, invoker, DjangoChatProject.RoomPath, jsonMessage: true),
        BroadcastFramework.BareWebSocket => new RawWebSocketClient(tracker, invoker, BareWebSocketRoom.RoomPath, jsonMessage: false),
        _ => new SignalRClient(tracker),
    };

    /// <summary>Connects to <paramref name="server"/> and joins <paramref name="room"/>; returns once joined.</summary>
    public abstract Task ConnectAsync(Uri server, string room, CancellationToken cancellationToken);

    /// <summary>Sends one chat message to the room.</summary>
    public abstract Task SendAsync(string text, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    public void ResetCounters()
    {
        Received = 0;
        LastDeliveryAt = 0;
        OutOfOrder = 0;
        Stale = 0;
        Malformed = 0;
        Array.Fill(LastSeq, -1);
    }

    protected void OnMessage(ReadOnlySpan<byte> utf8, long receivedAt)
    {
        if (BroadcastMessage.TryParse(utf8, out var fields))
        {
            _tracker.OnDelivery(this, fields, receivedAt);
        }
        else
        {
            Malformed++;
        }
    }

    protected void OnMessage(ReadOnlySpan<char> text, long receivedAt)
    {
        if (BroadcastMessage.TryParse(text, out var fields))
        {
            _tracker.OnDelivery(this, fields, receivedAt);
        }
        else
        {
            Malformed++;
        }
    }
}

/// <summary>A raw <see cref="ClientWebSocket"/> on a room URL (a tutorial's, or the bare endpoint's): text frames out, text
/// frames in, each the chat text itself or, with <paramref name="jsonMessage"/>, the Django tutorial page's
/// <c>{"message": "..."}</c> (its <c>JSON.stringify</c> / <c>JSON.parse(e.data).message</c>). The Origin header is the
/// server's own, as a browser on its page sends (Django's <c>AllowedHostsOriginValidator</c> refuses a connection without one).</summary>
internal sealed class RawWebSocketClient(DeliveryTracker tracker, HttpMessageInvoker invoker, Func<string, string> roomPath, bool jsonMessage) : BroadcastClient(tracker)
{
    private static readonly byte[] JsonPrefix = "{\"message\": \""u8.ToArray();
    private static readonly byte[] JsonSuffix = "\"}"u8.ToArray();
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _sendBuffer = new byte[Encoding.UTF8.GetMaxByteCount(BroadcastMessage.Length) + 32];
    private byte[] _receiveBuffer = new byte[256];
    private Task? _receiving;

    public override async Task ConnectAsync(Uri server, string room, CancellationToken cancellationToken)
    {
        var uri = new UriBuilder(new Uri(server, roomPath(room))) { Scheme = "ws" }.Uri;
        _socket.Options.SetRequestHeader("Origin", server.GetLeftPart(UriPartial.Authority));
        await _socket.ConnectAsync(uri, invoker, cancellationToken);
        _receiving = ReceiveLoopAsync();
    }

    public override Task SendAsync(string text, CancellationToken cancellationToken)
    {
        // The chat text is ASCII letters, digits and spaces (BroadcastMessage): nothing to escape in JSON.
        var length = 0;
        if (jsonMessage)
        {
            JsonPrefix.CopyTo(_sendBuffer, 0);
            length = JsonPrefix.Length;
        }

        length += Encoding.UTF8.GetBytes(text, _sendBuffer.AsSpan(length));
        if (jsonMessage)
        {
            JsonSuffix.CopyTo(_sendBuffer, length);
            length += JsonSuffix.Length;
        }

        return _socket.SendAsync(_sendBuffer.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).AsTask();
    }

    public override async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        if (_receiving is not null)
        {
            await _receiving;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var count = 0;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(count), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                count += result.Count;
                if (!result.EndOfMessage)
                {
                    if (count == _receiveBuffer.Length)
                    {
                        Array.Resize(ref _receiveBuffer, _receiveBuffer.Length * 2);
                    }

                    continue;
                }

                OnMessage(jsonMessage ? JsonMessageText(_receiveBuffer.AsSpan(0, count)) : _receiveBuffer.AsSpan(0, count), Stopwatch.GetTimestamp());
                count = 0;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The connection ended (the benchmark aborts it, or the server went away).
        }
    }

    /// <summary>The <c>message</c> of Django's <c>json.dumps({"message": message})</c>; anything else is left as is (and counted malformed).</summary>
    private static ReadOnlySpan<byte> JsonMessageText(ReadOnlySpan<byte> json) =>
        json.StartsWith(JsonPrefix) && json.EndsWith(JsonSuffix) ? json[JsonPrefix.Length..^JsonSuffix.Length] : json;
}

/// <summary>A SignalR .NET client: WebSockets transport, negotiation skipped, JSON protocol; joins with <c>Join</c>,
/// sends with <c>Send</c> (fire-and-forget, like a WebSocket frame), receives <c>message</c>.</summary>
internal sealed class SignalRClient(DeliveryTracker tracker) : BroadcastClient(tracker)
{
    private HubConnection? _connection;
    private string _room = "";

    public override async Task ConnectAsync(Uri server, string room, CancellationToken cancellationToken)
    {
        _room = room;
        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server, ChatHub.Path), HttpTransportType.WebSockets, o => o.SkipNegotiation = true)
            .Build();
        _connection.On<string>("message", text => OnMessage(text.AsSpan(), Stopwatch.GetTimestamp()));
        await _connection.StartAsync(cancellationToken);
        await _connection.InvokeAsync("Join", room, cancellationToken);
    }

    public override Task SendAsync(string text, CancellationToken cancellationToken) =>
        _connection!.SendAsync("Send", _room, text, cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
