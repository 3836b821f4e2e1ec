using Channels.Net.Consumers;
using Channels.Net.Layers;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The tutorial's room chat consumer, exactly as in docs/consumers.md and DESIGN.md: join the group named
/// after the room, forward every client message to the group as <c>chat.message</c>, and send each
/// group message to the client. Nothing here is tuned for the benchmark.
/// </summary>
public sealed class ChatConsumer : AsyncWebSocketConsumer
{
    string room = "";

    public override async Task ConnectAsync()
    {
        room = Scope.UrlRoute.Get<string>("room");
        await ChannelLayer.GroupAddAsync(room, ChannelName);
        await AcceptAsync();
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) =>
        ChannelLayer.GroupSendAsync(room, new { type = "chat.message", message = text }).AsTask();

    [ChannelEvent("chat.message")]
    public Task ChatMessage(ChatMessage e) => SendAsync(e.Message);

    public override Task DisconnectAsync(int code) => ChannelLayer.GroupDiscardAsync(room, ChannelName).AsTask();
}

/// <summary>The <c>chat.message</c> event, bound by System.Text.Json.</summary>
public sealed record ChatMessage(string Message);
