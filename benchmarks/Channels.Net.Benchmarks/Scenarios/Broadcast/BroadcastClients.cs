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

    public static BroadcastClient Create(BroadcastFramework framework, DeliveryTracker tracker, HttpMessageInvoker invoker) => framework switch
    {
        BroadcastFramework.ChannelsNet => new RawWebSocketClient(tracker, invoker, ChatRouting.RoomPath),
        BroadcastFramework.BareWebSocket => new RawWebSocketClient(tracker, invoker, BareWebSocketRoom.RoomPath),
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

/// <summary>A raw <see cref="ClientWebSocket"/> on a room URL (the tutorial's, or the bare endpoint's): text frames out, text frames in.</summary>
internal sealed class RawWebSocketClient(DeliveryTracker tracker, HttpMessageInvoker invoker, Func<string, string> roomPath) : BroadcastClient(tracker)
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _sendBuffer = new byte[Encoding.UTF8.GetMaxByteCount(BroadcastMessage.Length)];
    private byte[] _receiveBuffer = new byte[256];
    private Task? _receiving;

    public override async Task ConnectAsync(Uri server, string room, CancellationToken cancellationToken)
    {
        var uri = new UriBuilder(new Uri(server, roomPath(room))) { Scheme = "ws" }.Uri;
        await _socket.ConnectAsync(uri, invoker, cancellationToken);
        _receiving = ReceiveLoopAsync();
    }

    public override Task SendAsync(string text, CancellationToken cancellationToken)
    {
        var length = Encoding.UTF8.GetBytes(text, _sendBuffer);
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

                OnMessage(_receiveBuffer.AsSpan(0, count), Stopwatch.GetTimestamp());
                count = 0;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The connection ended (the benchmark aborts it, or the server went away).
        }
    }
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
