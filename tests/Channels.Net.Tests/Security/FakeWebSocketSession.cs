namespace Channels.Net.Tests.Security;

/// <summary>A WebSocket session that records what the application did with it.</summary>
internal sealed class FakeWebSocketSession : IWebSocketSession
{
    public List<(int StatusCode, string Reason)> Rejections { get; } = [];

    public int Receives { get; private set; }

    public bool IsAccepted { get; private set; }

    public CancellationToken Aborted => CancellationToken.None;

    public ValueTask RejectAsync(int statusCode, string reason)
    {
        Rejections.Add((statusCode, reason));
        return ValueTask.CompletedTask;
    }

    public ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        Receives++;
        return ValueTask.FromResult(Receives == 1 ? WebSocketEvent.Connect : WebSocketEvent.Disconnected(1000));
    }

    public ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        IsAccepted = true;
        return ValueTask.CompletedTask;
    }

    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (!IsAccepted)
        {
            Rejections.Add((403, reason ?? ""));
        }

        return ValueTask.CompletedTask;
    }
}
