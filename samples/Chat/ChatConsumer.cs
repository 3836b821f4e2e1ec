using Channels.Net.Consumers;
using Channels.Net.Layers;

namespace Chat;

/// <summary>
/// The tutorial's consumer: everyone connected to <c>ws/chat/{room}/</c> is in the group named
/// <c>{room}</c>, and every text a client sends goes to the whole group as
/// <c>{"type": "chat.message", "message": text}</c>, so a Django app written from the same tutorial,
/// on the same Redis, shares the room.
/// </summary>
public sealed class ChatConsumer : AsyncWebSocketConsumer
{
    private string room = "";

    public override async Task ConnectAsync()
    {
        room = Scope.UrlRoute.Get<string>("room");
        if (!ChannelNames.IsValidGroupName(room))
        {
            // The route's \w admits letters a group name cannot hold (non-ASCII), and names of 100+ characters: refuse (403).
            await CloseAsync();
            return;
        }

        await ChannelLayer.GroupAddAsync(room, ChannelName);
        await AcceptAsync();
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) =>
        text is null
            ? Task.CompletedTask // binary frames are not chat
            : ChannelLayer.GroupSendAsync(room, new { type = "chat.message", message = text }).AsTask();

    [ChannelEvent("chat.message")]
    public Task ChatMessage(ChatMessage e) => SendAsync(e.Message ?? "");

    public override Task DisconnectAsync(int code) =>
        ChannelNames.IsValidGroupName(room) ? ChannelLayer.GroupDiscardAsync(room, ChannelName).AsTask() : Task.CompletedTask;
}

/// <summary>The group message: <c>{"type": "chat.message", "message": "..."}</c>.</summary>
public sealed record ChatMessage(string? Message);
