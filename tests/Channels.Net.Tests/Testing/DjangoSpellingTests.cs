using Channels.Net.Consumers;
using Channels.Net.Routing;
using Channels.Net.Testing;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Testing;

/// <summary>Code ported from Django as written (its spellings of the consumer, router and communicator names) still builds and runs.</summary>
public sealed class DjangoSpellingTests
{
    [Fact]
    public async Task A_consumer_router_and_communicator_in_Djangos_spelling_work_as_the_dotnet_names()
    {
        var application = new URLRouter(RePath(@"^ws/echo/(?P<name>\w+)/$", Consumer<DjangoSpelledEchoConsumer>()));
        await using var communicator = new WebsocketCommunicator(application, "/ws/echo/lobby/");

        Assert.True((await communicator.ConnectAsync()).Connected);
        await communicator.SendToAsync("hi");

        Assert.Equal("lobby: hi", await communicator.ReceiveFromAsync());
        Assert.IsAssignableFrom<UrlRouter>(application);
        Assert.IsAssignableFrom<WebSocketCommunicator>(communicator);
        Assert.True(typeof(AsyncWebSocketConsumer).IsAssignableFrom(typeof(AsyncWebsocketConsumer)));
        Assert.True(typeof(WebSocketConsumer).IsAssignableFrom(typeof(WebsocketConsumer)));
        Assert.True(typeof(JsonWebSocketConsumer).IsAssignableFrom(typeof(JsonWebsocketConsumer)));
        Assert.True(typeof(AsyncJsonWebSocketConsumer).IsAssignableFrom(typeof(AsyncJsonWebsocketConsumer)));
    }

    [Fact]
    public async Task A_router_in_Djangos_spelling_nests_as_a_prefix()
    {
        var application = new URLRouter(Path("ws/", new URLRouter(Path("echo/<str:name>/", Consumer<DjangoSpelledEchoConsumer>()))));
        await using var communicator = new WebsocketCommunicator(application, "/ws/echo/room/");

        Assert.True((await communicator.ConnectAsync()).Connected);
        await communicator.SendToAsync("x");

        Assert.Equal("room: x", await communicator.ReceiveFromAsync());
    }
}

public sealed class DjangoSpelledEchoConsumer : AsyncWebsocketConsumer
{
    public override Task ReceiveAsync(string? text, byte[]? bytes) => SendAsync($"{Scope.UrlRoute.Get<string>("name")}: {text}");
}
