using Channels.Net.Consumers;
using Channels.Net.Layers;
using Channels.Net.Routing;
using Channels.Net.Testing;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Testing.XunitV3.Tests;

/// <summary>The communicators, driven from an xunit v3 project as a user's tests would drive them.</summary>
public sealed class CommunicatorsUnderXunitV3Tests
{
    [Fact]
    public async Task A_room_consumer_routed_by_path_joins_its_group_and_relays_messages()
    {
        var application = new UrlRouter(Path("ws/chat/<str:room>/", Consumer<RoomConsumer>()));
        await using var alice = new WebSocketCommunicator(application, "/ws/chat/lobby/");
        await using var bob = new WebSocketCommunicator(application, "/ws/chat/lobby/", services: alice.Scope.RequestServices);

        Assert.True((await alice.ConnectAsync()).Connected);
        Assert.True((await bob.ConnectAsync()).Connected);
        await alice.SendToAsync("hello");

        Assert.Equal("lobby: hello", await alice.ReceiveFromAsync());
        Assert.Equal("lobby: hello", await bob.ReceiveFromAsync());
        await alice.DisconnectAsync();
        await bob.DisconnectAsync();
    }

    [Fact]
    public async Task An_http_consumer_answers_through_the_http_communicator()
    {
        await using var communicator = new HttpCommunicator(Consumer<HelloConsumer>(), "GET", "/hello/?name=v3");

        var response = await communicator.GetResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("hello v3", response.Text);
    }

    [Fact]
    public async Task A_worker_gets_a_message_and_replies_on_the_layer()
    {
        await using var worker = new ApplicationCommunicator(Consumer<DoublingWorker>(), "doubler");

        await worker.SendInputAsync(new { type = "double.it", value = 21, reply = "answers" });

        var answer = await worker.ReceiveFromLayerAsync("answers");
        Assert.Equal(42, answer.GetInt64("value"));
    }
}

public sealed class RoomConsumer : AsyncWebSocketConsumer
{
    private string _room = "";

    public override async Task ConnectAsync()
    {
        _room = Scope.UrlRoute.Get<string>("room");
        await ChannelLayer.GroupAddAsync(_room, ChannelName);
        await AcceptAsync();
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) =>
        ChannelLayer.GroupSendAsync(_room, new { type = "chat.message", message = text }).AsTask();

    [ChannelEvent("chat.message")]
    public Task ChatMessage(ChatMessage e) => SendAsync($"{_room}: {e.Message}");

    public override Task DisconnectAsync(int code) => ChannelLayer.GroupDiscardAsync(_room, ChannelName).AsTask();
}

public sealed record ChatMessage(string Message);

public sealed class HelloConsumer : AsyncHttpConsumer
{
    public override Task HandleAsync(byte[] body) =>
        SendResponseAsync(200, System.Text.Encoding.UTF8.GetBytes("hello " + System.Web.HttpUtility.ParseQueryString(Scope.QueryString)["name"]));
}

public sealed class DoublingWorker : AsyncConsumer
{
    [ChannelEvent("double.it")]
    public Task Double(DoubleIt job) => ChannelLayer.SendAsync(job.Reply, new { type = "doubled", value = job.Value * 2 }).AsTask();
}

public sealed record DoubleIt(int Value, string Reply);
