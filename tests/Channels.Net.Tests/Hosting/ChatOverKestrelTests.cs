using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>The tutorial's chat, over real sockets.</summary>
public sealed class ChatOverKestrelTests
{
    [Fact]
    public async Task A_message_reaches_exactly_the_clients_in_its_room()
    {
        await using var host = await KestrelHost.StartAsync(app =>
            app.MapChannels(new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", Consumer<RoomChatConsumer>()))));
        await using var alice = await WsClient.ConnectAsync(host.Ws("ws/chat/room-a/"));
        await using var bob = await WsClient.ConnectAsync(host.Ws("ws/chat/room-a/"));
        await using var carol = await WsClient.ConnectAsync(host.Ws("ws/chat/room-b/"));

        await alice.SendAsync("hello, room A 世界");

        Assert.Equal("hello, room A 世界", await alice.ReceiveTextAsync());
        Assert.Equal("hello, room A 世界", await bob.ReceiveTextAsync());

        await carol.SendAsync("only B");
        Assert.Equal("only B", await carol.ReceiveTextAsync());

        // Carol's first message is her own; Alice and Bob got nothing from room B.
        await bob.SendAsync("from bob");
        Assert.Equal("from bob", await alice.ReceiveTextAsync());
        Assert.Equal("from bob", await bob.ReceiveTextAsync());

        await alice.CloseAsync();
        Assert.Equal("left:room-a:1000", await host.Probe.WaitForAsync("left:"));

        await bob.SendAsync("after alice left");
        Assert.Equal("after alice left", await bob.ReceiveTextAsync());

        // Nothing else is waiting for carol: her next message is her own again.
        await carol.SendAsync("B again");
        Assert.Equal("B again", await carol.ReceiveTextAsync());
    }
}
