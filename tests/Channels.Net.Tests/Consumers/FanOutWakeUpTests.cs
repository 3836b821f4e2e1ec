using Channels.Net.Consumers;
using Channels.Net.Layers;
using Channels.Net.Testing;
using static Channels.Net.Consumers.ConsumerApplications;

namespace Channels.Net.Tests.Consumers;

/// <summary>
/// A group send wakes its members' consumers a few thread-pool work items at a time (Internal/WorkItemBatch): a
/// synchronous consumer blocked in its handler is never one of those, so it holds up no other member of its room.
/// </summary>
public sealed class FanOutWakeUpTests
{
    /// <summary>How long the synchronous consumer blocks: far longer than <see cref="Prompt"/>.</summary>
    internal static readonly TimeSpan Blocked = TimeSpan.FromSeconds(6);

    /// <summary>How long the others may take: far longer than a delivery, far shorter than <see cref="Blocked"/>.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2.5);

    [Fact]
    public async Task A_sync_consumer_blocked_in_its_handler_does_not_hold_up_the_rooms_async_consumers()
    {
        await using var host = new ConsumerTestHost();
        await using var blocking = new WebSocketCommunicator(Consumer<BlockingRoomConsumer>(), "/", services: host.Services);
        Assert.True((await blocking.ConnectAsync()).Connected);
        var others = new List<WebSocketCommunicator>();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                var other = new WebSocketCommunicator(Consumer<AsyncRoomConsumer>(), "/", services: host.Services);
                others.Add(other);
                Assert.True((await other.ConnectAsync()).Connected);
            }

            await host.Layer.GroupSendAsync(RoomConsumers.Room, ChannelMessage.Create("notice", [new("text", "hi")]));

            foreach (var other in others)
            {
                Assert.Equal("hi", await other.ReceiveFromAsync(Prompt));
            }

            Assert.Equal("hi", await blocking.ReceiveFromAsync(Blocked * 2));
        }
        finally
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }
}

internal static class RoomConsumers
{
    public const string Room = "fanout-room";
}

public sealed class BlockingRoomConsumer : WebSocketConsumer
{
    protected override IReadOnlyList<string> Groups => [RoomConsumers.Room];

    public void Notice(ChannelMessage e)
    {
        Thread.Sleep(FanOutWakeUpTests.Blocked); // A blocking call (a slow database query, say), as sync consumers may make.
        Send(e.GetString("text")!);
    }
}

public sealed class AsyncRoomConsumer : AsyncWebSocketConsumer
{
    protected override IReadOnlyList<string> Groups => [RoomConsumers.Room];

    public Task Notice(ChannelMessage e) => SendAsync(e.GetString("text")!);
}
