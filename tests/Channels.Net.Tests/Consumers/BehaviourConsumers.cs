using System.Collections.Concurrent;
using System.Text.Json;
using Channels.Net.Consumers;
using Channels.Net.Layers;

namespace Channels.Net.Tests.Consumers;

public sealed class RefusingConsumer : AsyncWebSocketConsumer
{
    private static int s_disconnects;

    public static int Disconnects => s_disconnects;

    public override Task ConnectAsync() => CloseAsync(4003);

    public override Task DisconnectAsync(int code)
    {
        Interlocked.Increment(ref s_disconnects);
        return Task.CompletedTask;
    }
}

public sealed class ExceptionConsumer : AsyncWebSocketConsumer
{
    public override Task ConnectAsync() =>
        Scope.QueryString == "deny" ? throw new DenyConnectionException() : throw new AcceptConnectionException();
}

public sealed class SubprotocolConsumer : AsyncWebSocketConsumer
{
    public override Task ConnectAsync() => AcceptAsync(Scope.Subprotocols[^1]);
}

public sealed class BroadcastConsumer : AsyncWebSocketConsumer
{
    protected override IReadOnlyList<string> Groups => ["broadcast"];

    public Task Notice(ChannelMessage e) => SendAsync(e.GetString("text")!);
}

public sealed class DispatchConsumer : AsyncWebSocketConsumer
{
    public static string? LastChannel { get; private set; }

    public static bool HelperCalled { get; private set; }

    public override async Task ConnectAsync()
    {
        LastChannel = ChannelName;
        await ChannelLayer.GroupAddAsync("dispatch-group", ChannelName);
        await AcceptAsync();
    }

    [ChannelEvent("chat.message")]
    public Task OnChat(ChannelMessage e) => SendAsync("attribute");

#pragma warning disable IDE1006, CA1707 // The Django-style name is the point of this handler.
    public Task room_joined() => SendAsync("snake:room_joined");
#pragma warning restore IDE1006, CA1707

    public Task RoomLeft(ChannelMessage e) => SendAsync("pascal:RoomLeft");

    public Task RoomRenamedAsync(ChannelMessage e, CancellationToken cancellationToken) => SendAsync("async:RoomRenamedAsync");

    public override Task DisconnectAsync(int code) => base.DisconnectAsync(code);

    public override string ToString() => "dispatch";

    public override int GetHashCode() => 1;

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    private void Helper() => HelperCalled = true;

    private void _private() => Helper();
}

public sealed class ThrowingConsumer : AsyncWebSocketConsumer
{
    public static ConcurrentQueue<int> DisconnectCodes { get; } = new();

    public override Task ReceiveAsync(string? text, byte[]? bytes) => throw new InvalidOperationException("boom");

    public override Task DisconnectAsync(int code)
    {
        DisconnectCodes.Enqueue(code);
        return Task.CompletedTask;
    }
}

public sealed class SlowConsumer : AsyncWebSocketConsumer
{
    private static int s_received;

    public static TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static TaskCompletionSource<int> DisconnectCode { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static int Received => s_received;

    public override async Task ReceiveAsync(string? text, byte[]? bytes)
    {
        Interlocked.Increment(ref s_received);
        Started.TrySetResult();
        await Task.Delay(TimeSpan.FromSeconds(30), Aborted);
    }

    public override Task DisconnectAsync(int code)
    {
        DisconnectCode.TrySetResult(code);
        return Task.CompletedTask;
    }
}

public sealed class StoppingConsumer : AsyncWebSocketConsumer
{
    public override Task ReceiveAsync(string? text, byte[]? bytes) => throw new StopConsumerException();
}

public sealed class EchoConsumer : AsyncWebSocketConsumer
{
    public override Task ReceiveAsync(string? text, byte[]? bytes)
    {
        if (bytes is not null)
        {
            return SendAsync(bytes);
        }

        string layer;
        try
        {
            layer = ChannelName;
        }
        catch (Channels.Net.Layers.Configuration.InvalidChannelLayerException ex)
        {
            layer = "no layer: " + ex.Message[..ex.Message.IndexOf(" Configure", StringComparison.Ordinal)];
        }

        return SendAsync($"{text}|{layer}");
    }
}

public sealed class JsonEchoConsumer : AsyncJsonWebSocketConsumer
{
    public override Task ReceiveJsonAsync(JsonElement content) =>
        SendJsonAsync(new { value = content.GetProperty("value").GetInt32() + 1, name = content.GetProperty("name").GetString() });
}

public sealed class SyncJsonEchoConsumer : JsonWebSocketConsumer
{
    public override void ReceiveJson(JsonElement content) => SendJson(new { value = content.GetProperty("value").GetInt32() + 1 });
}

public sealed class RawConsumer : AsyncConsumer
{
    public static TaskCompletionSource<int> DisconnectCode { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [ChannelEvent("websocket.connect")]
    public Task Connect() => BaseSendAsync(new { type = "websocket.accept", subprotocol = "raw" });

    [ChannelEvent("websocket.receive")]
    public Task Receive(ChannelMessage message) =>
        BaseSendAsync(new { type = "websocket.send", text = message.GetString("text")!.ToUpperInvariant() });

    [ChannelEvent("websocket.disconnect")]
    public void Disconnect(ChannelMessage message) => DisconnectCode.TrySetResult((int)message.GetInt64("code")!.Value);
}

public sealed class GreetingConsumer : AsyncWebSocketConsumer
{
    public string Greeting { get; set; } = "hello";

    public override async Task ConnectAsync()
    {
        await AcceptAsync();
        await SendAsync(Greeting);
    }
}

public sealed class DuplicateHandlerConsumer : AsyncWebSocketConsumer
{
    [ChannelEvent("dup")]
    public Task One() => Task.CompletedTask;

    [ChannelEvent("dup")]
    public Task Two() => Task.CompletedTask;
}

public sealed class BadSignatureConsumer : AsyncWebSocketConsumer
{
    [ChannelEvent("bad")]
    public int Bad() => 1;
}

/// <summary>Counts disconnects, to see a failing session end the consumer.</summary>
public sealed class DisconnectCountingConsumer : AsyncWebSocketConsumer
{
    public static ConcurrentQueue<int> Codes { get; } = new();

    public override Task DisconnectAsync(int code)
    {
        Codes.Enqueue(code);
        return Task.CompletedTask;
    }
}
