using Microsoft.AspNetCore.SignalR;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>The SignalR counterpart of <see cref="ChatConsumer"/>: join a room, send to the room's group.</summary>
public sealed class ChatHub : Hub
{
    /// <summary>The hub's path, relative to the server's base address.</summary>
    public const string Path = "hub";

    public Task Join(string room) => Groups.AddToGroupAsync(Context.ConnectionId, room);

    public Task Send(string room, string message) => Clients.Group(room).SendAsync("message", message);
}
