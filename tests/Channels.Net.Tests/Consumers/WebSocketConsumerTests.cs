using Channels.Net.Consumers;
using Channels.Net.Layers;
using Channels.Net.Routing;
using Channels.Net.Testing;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Consumers;

public sealed class WebSocketConsumerTests
{
    private static readonly UrlRouter ChatRouter = new(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", Consumer<ChatConsumer>()));

    [Fact]
    public async Task Two_clients_in_one_room_hear_each_other_and_another_room_hears_nothing()
    {
        await using var host = new ConsumerTestHost();
        await using var alice = new WebSocketCommunicator(ChatRouter, "/ws/chat/lobby/", services: host.Services);
        await using var bob = new WebSocketCommunicator(ChatRouter, "/ws/chat/lobby/", services: host.Services);
        await using var carol = new WebSocketCommunicator(ChatRouter, "/ws/chat/other/", services: host.Services);
        Assert.True((await alice.ConnectAsync()).Connected);
        Assert.True((await bob.ConnectAsync()).Connected);
        Assert.True((await carol.ConnectAsync()).Connected);

        await alice.SendToAsync("hello, 世界");

        Assert.Equal("hello, 世界", await alice.ReceiveFromAsync());
        Assert.Equal("hello, 世界", await bob.ReceiveFromAsync());
        Assert.True(await carol.ReceiveNothingAsync());
    }

    [Fact]
    public async Task The_tutorial_sync_consumer_broadcasts_through_its_convention_handler()
    {
        await using var host = new ConsumerTestHost();
        var app = Consumer<TutorialSyncConsumer>();
        await using var a = new WebSocketCommunicator(app, "/ws/", services: host.Services);
        await using var b = new WebSocketCommunicator(app, "/ws/", services: host.Services);
        Assert.True((await a.ConnectAsync()).Connected);
        Assert.True((await b.ConnectAsync()).Connected);

        await b.SendToAsync("同步");

        Assert.Equal("同步", await a.ReceiveFromAsync());
        Assert.Equal("同步", await b.ReceiveFromAsync());
        await a.DisconnectAsync();
        await b.SendToAsync("after a left");
        Assert.Equal("after a left", await b.ReceiveFromAsync());
    }

    [Fact]
    public async Task Disconnect_runs_once_and_leaves_the_group()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(ChatRouter, "/ws/chat/leave-test/", services: host.Services);
        await client.ConnectAsync();
        await client.DisconnectAsync(4001);

        Assert.Single(ChatConsumer.Disconnects, d => d == ("leave-test", 4001));

        // Nobody is left in the group: a group send reaches no channel.
        var probe = await host.Layer.NewChannelAsync();
        await host.Layer.GroupAddAsync("leave-test", probe);
        await host.Layer.GroupSendAsync("leave-test", ChannelMessage.Create("chat.message", [new("message", "x")]));
        Assert.Equal("x", (await host.Layer.ReceiveAsync(probe)).GetString("message"));
    }

    [Fact]
    public async Task Closing_before_accept_refuses_the_handshake_with_403()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<RefusingConsumer>(), "/", services: host.Services);
        var result = await client.ConnectAsync();
        Assert.False(result.Connected);
        Assert.Equal(403, result.HttpStatus);
        Assert.Equal(4003, result.CloseCode);
        await client.WaitAsync();
        Assert.Equal(1, RefusingConsumer.Disconnects);
    }

    [Fact]
    public async Task A_deny_exception_refuses_and_an_accept_exception_accepts()
    {
        await using var host = new ConsumerTestHost();
        await using var denied = new WebSocketCommunicator(Consumer<ExceptionConsumer>(), "/?deny", services: host.Services);
        var refused = await denied.ConnectAsync();
        Assert.Equal((false, 403), (refused.Connected, refused.HttpStatus));

        await using var accepted = new WebSocketCommunicator(Consumer<ExceptionConsumer>(), "/?accept", services: host.Services);
        Assert.True((await accepted.ConnectAsync()).Connected);
    }

    [Fact]
    public async Task Accept_can_choose_a_subprotocol()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<SubprotocolConsumer>(), "/", subprotocols: ["chat.v1", "chat.v2"], services: host.Services);
        var result = await client.ConnectAsync();
        Assert.True(result.Connected);
        Assert.Equal("chat.v2", result.Subprotocol);
    }

    [Fact]
    public async Task Groups_are_joined_on_connect_and_left_on_disconnect()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<BroadcastConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await host.Layer.GroupSendAsync("broadcast", new { type = "notice", text = "one" });
        Assert.Equal("one", await client.ReceiveFromAsync());

        await client.DisconnectAsync();
        var probe = await host.Layer.NewChannelAsync();
        await host.Layer.GroupAddAsync("broadcast", probe);
        await host.Layer.GroupSendAsync("broadcast", new { type = "notice", text = "two" });
        Assert.Equal("two", (await host.Layer.ReceiveAsync(probe)).GetString("text"));
        await host.Layer.GroupDiscardAsync("broadcast", probe);
    }

    [Theory]
    [InlineData("chat.message", "attribute")]
    [InlineData("room.joined", "snake:room_joined")]
    [InlineData("room.left", "pascal:RoomLeft")]
    [InlineData("room.renamed", "async:RoomRenamedAsync")]
    [InlineData("room_joined", "snake:room_joined")]
    public async Task Handlers_are_found_by_attribute_and_by_convention(string type, string expected)
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<DispatchConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await host.Layer.SendAsync(DispatchConsumer.LastChannel!, ChannelMessage.Create(type));
        Assert.Equal(expected, await client.ReceiveFromAsync());
    }

    [Theory]
    [InlineData("close")]
    [InlineData("close.async")]
    [InlineData("accept.async")]
    [InlineData("send.async")]
    [InlineData("disconnect.async")]
    [InlineData("to.string")]
    [InlineData("get.hash.code")]
    [InlineData("finalize")]
    [InlineData("helper")]
    [InlineData("_private")]
    [InlineData("no.such.handler")]
    public async Task A_crafted_type_reaches_no_base_or_private_method_and_closes_with_1011(string type)
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<DispatchConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        var channel = DispatchConsumer.LastChannel!;

        await host.Layer.SendAsync(channel, ChannelMessage.Create(type));

        var output = await client.ReceiveOutputAsync();
        Assert.Equal((WebsocketOutputKind.Close, 1011), (output.Kind, output.Code));
        await client.WaitAsync();
        Assert.False(DispatchConsumer.HelperCalled);

        // Its group memberships are gone.
        var probe = await host.Layer.NewChannelAsync();
        await host.Layer.GroupAddAsync("dispatch-group", probe);
        await host.Layer.GroupSendAsync("dispatch-group", ChannelMessage.Create("x"));
        await host.Layer.ReceiveAsync(probe);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await host.Layer.ReceiveAsync(channel, new CancellationTokenSource(100).Token));
    }

    [Fact]
    public async Task A_handler_that_throws_closes_with_1011_and_disconnect_still_runs_once()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<ThrowingConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await client.SendToAsync("boom");
        var output = await client.ReceiveOutputAsync();
        Assert.Equal((WebsocketOutputKind.Close, 1011), (output.Kind, output.Code));
        await client.WaitAsync();
        Assert.Equal([1011], ThrowingConsumer.DisconnectCodes);
    }

    [Fact]
    public async Task A_slow_handler_does_not_hold_the_close_path()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<SlowConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await client.SendToAsync("slow");
        await SlowConsumer.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await client.SendToAsync("queued behind the slow one");

        var started = DateTime.UtcNow;
        await client.DisconnectAsync(1001, TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), "disconnect waited for the slow handler");
        Assert.Equal(1001, await SlowConsumer.DisconnectCode.Task.WaitAsync(TimeSpan.FromSeconds(1)));
        Assert.Equal(1, SlowConsumer.Received); // The queued message was dropped, not handled after the client left.
    }

    [Fact]
    public async Task Stop_consumer_ends_cleanly_with_a_normal_close()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<StoppingConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await client.SendToAsync("stop");
        var output = await client.ReceiveOutputAsync();
        Assert.Equal((WebsocketOutputKind.Close, 1000), (output.Kind, output.Code));
        await client.WaitAsync();
    }

    [Fact]
    public async Task Without_a_layer_a_consumer_still_works_and_says_clearly_why_groups_do_not()
    {
        await using var host = new ConsumerTestHost(withLayer: false);
        await using var client = new WebSocketCommunicator(Consumer<EchoConsumer>(), "/", services: host.Services);
        Assert.True((await client.ConnectAsync()).Connected);
        await client.SendToAsync("ping");
        Assert.Equal("ping|no layer: EchoConsumer has no channel layer: none is configured under the alias 'default'.", await client.ReceiveFromAsync());
        await client.SendToAsync(new byte[] { 0, 255 });
        Assert.Equal(new byte[] { 0, 255 }, await client.ReceiveBytesFromAsync());
    }

    [Fact]
    public async Task Json_consumers_decode_and_encode()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<JsonEchoConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await client.SendJsonToAsync(new { value = 41, name = "π" });
        var reply = await client.ReceiveJsonFromAsync();
        Assert.Equal(42, reply.GetProperty("value").GetInt32());
        Assert.Equal("π", reply.GetProperty("name").GetString());

        await using var sync = new WebSocketCommunicator(Consumer<SyncJsonEchoConsumer>(), "/", services: host.Services);
        await sync.ConnectAsync();
        await sync.SendJsonToAsync(new { value = 1 });
        Assert.Equal(2, (await sync.ReceiveJsonFromAsync()).GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task A_json_consumer_given_bad_json_closes_with_1011()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<JsonEchoConsumer>(), "/", services: host.Services);
        await client.ConnectAsync();
        await client.SendToAsync("{not json");
        var output = await client.ReceiveOutputAsync();
        Assert.Equal((WebsocketOutputKind.Close, 1011), (output.Kind, output.Code));
    }

    [Fact]
    public async Task A_generic_async_consumer_handles_raw_events_by_type()
    {
        await using var host = new ConsumerTestHost();
        await using var client = new WebSocketCommunicator(Consumer<RawConsumer>(), "/", services: host.Services);
        var result = await client.ConnectAsync();
        Assert.Equal((true, "raw"), (result.Connected, result.Subprotocol));
        await client.SendToAsync("abc");
        Assert.Equal("ABC", await client.ReceiveFromAsync());
        await client.DisconnectAsync(1000);
        Assert.Equal(1000, await RawConsumer.DisconnectCode.Task.WaitAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Per_route_options_configure_each_new_consumer()
    {
        await using var host = new ConsumerTestHost();
        var app = Consumer<GreetingConsumer>(c => c.Greeting = "bonjour");
        await using var client = new WebSocketCommunicator(app, "/", services: host.Services);
        await client.ConnectAsync();
        Assert.Equal("bonjour", await client.ReceiveFromAsync());
    }

    [Fact]
    public void Two_handlers_for_one_type_are_refused_when_the_route_is_built()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Consumer<DuplicateHandlerConsumer>());
        Assert.Contains("has two handlers for 'dup'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_badly_shaped_attributed_handler_is_refused_when_the_route_is_built()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Consumer<BadSignatureConsumer>());
        Assert.Contains("BadSignatureConsumer.Bad is marked [ChannelEvent] but cannot be a handler: it must return Task, ValueTask or void", error.Message, StringComparison.Ordinal);
    }
}
