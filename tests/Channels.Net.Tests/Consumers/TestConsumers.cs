using System.Collections.Concurrent;
using Channels.Net.Consumers;
using Channels.Net.Layers;

namespace Channels.Net.Tests.Consumers;

public sealed record ChatMessage(string Message);

/// <summary>The tutorial's room chat, async flavour (DESIGN.md's example).</summary>
public sealed class ChatConsumer : AsyncWebSocketConsumer
{
    private string _room = "";

    public static ConcurrentBag<(string Room, int Code)> Disconnects { get; } = [];

    public override async Task ConnectAsync()
    {
        _room = Scope.UrlRoute.Kwargs.TryGetValue("room", out var room) ? (string)room : "lobby";
        await ChannelLayer.GroupAddAsync(_room, ChannelName);
        await AcceptAsync();
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) =>
        ChannelLayer.GroupSendAsync(_room, new { type = "chat.message", message = text }).AsTask();

    [ChannelEvent("chat.message")]
    public Task ChatMessage(ChatMessage e) => SendAsync(e.Message);

    public override Task DisconnectAsync(int code)
    {
        Disconnects.Add((_room, code));
        return ChannelLayer.GroupDiscardAsync(_room, ChannelName).AsTask();
    }
}

/// <summary>The Chinese tutorial's consumer, sync flavour, with the xxx.ooo convention handler.</summary>
public sealed class TutorialSyncConsumer : WebSocketConsumer
{
    public override void Connect()
    {
        ChannelLayer.GroupAdd("x1", ChannelName);
        Accept();
    }

    public override void Receive(string? text, byte[]? bytes) =>
        ChannelLayer.GroupSend("x1", new { type = "xxx.ooo", message = text });

    public void xxx_ooo(ChannelMessage e) => Send((string)e["message"]!);

    public override void Disconnect(int code) => ChannelLayer.GroupDiscard("x1", ChannelName);
}
