using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Channels.Net.Routing;
using Channels.Net.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Layers;

/// <summary>
/// Consumers take their messages through <see cref="IListeningChannelLayer"/> when their layer offers it, whoever wrote
/// the layer, and await <see cref="IChannelLayer.ReceiveAsync"/> when it does not: a backend outside this library gets
/// the same fast path as ours by implementing the public interface.
/// </summary>
public sealed class ListeningCapabilityTests
{
    [Fact]
    public async Task A_third_party_layer_that_offers_listening_is_listened_to()
    {
        var layer = new CountingLayer(new InMemoryChannelLayer());
        await RoomRoundTripAsync(new ListeningLayer(layer));

        Assert.True(layer.Listens > 0, "the consumers never listened");
        Assert.Equal(0, layer.Receives);
    }

    [Fact]
    public async Task A_layer_without_the_capability_is_read_with_ReceiveAsync()
    {
        var layer = new CountingLayer(new InMemoryChannelLayer());
        await RoomRoundTripAsync(layer);

        Assert.True(layer.Receives > 0, "the consumers never received");
        Assert.Equal(0, layer.Listens);
    }

    private static async Task RoomRoundTripAsync(IChannelLayer layer)
    {
        await using var services = CommunicatorServices.Create(s => s.AddChannels(c => c.AddLayer("default", _ => layer)));
        var app = new UrlRouter(Path("ws/<str:room>/", Consumer<RelayConsumer>()));
        await using var alice = new WebSocketCommunicator(app, "/ws/lobby/", services: services);
        await using var bob = new WebSocketCommunicator(app, "/ws/lobby/", services: services);
        Assert.True((await alice.ConnectAsync()).Connected);
        Assert.True((await bob.ConnectAsync()).Connected);

        // Every text goes to the room through the layer and back to both consumers as a layer message (one sender at a
        // time: two senders' messages have no order between them).
        await alice.SendToAsync("one");
        Assert.Equal("lobby: one", await alice.ReceiveFromAsync());
        Assert.Equal("lobby: one", await bob.ReceiveFromAsync());
        await bob.SendToAsync("two");
        Assert.Equal("lobby: two", await alice.ReceiveFromAsync());
        Assert.Equal("lobby: two", await bob.ReceiveFromAsync());
        await alice.DisconnectAsync();
        await bob.DisconnectAsync();
    }

    /// <summary>Joins the room of its path; relays what its client sends to the room, and the room's messages to its client.</summary>
    public sealed class RelayConsumer : Channels.Net.Consumers.AsyncWebSocketConsumer
    {
        private string _room = "";

        public override async Task ConnectAsync()
        {
            _room = Scope.UrlRoute.Get<string>("room");
            await ChannelLayer.GroupAddAsync(_room, ChannelName);
            await AcceptAsync();
        }

        public override Task ReceiveAsync(string? text, byte[]? bytes) =>
            ChannelLayer.GroupSendAsync(_room, new { type = "relay.message", text }).AsTask();

        [Channels.Net.Consumers.ChannelEvent("relay.message")]
        public Task Relay(RelayMessage e) => SendAsync($"{_room}: {e.Text}");
    }

    public sealed record RelayMessage(string Text);

    /// <summary>Counts the receives and listens the consumers make, passing everything to the layer it wraps.</summary>
    private sealed class CountingLayer(InMemoryChannelLayer inner) : IChannelLayer
    {
        private int _receives;
        private int _listens;

        public int Receives => Volatile.Read(ref _receives);

        public int Listens => Volatile.Read(ref _listens);

        public InMemoryChannelLayer Inner => inner;

        public ChannelLayerExtensions Extensions => inner.Extensions;

        public ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default) => inner.SendAsync(channel, message, cancellationToken);

        public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _receives);
            return inner.ReceiveAsync(channel, cancellationToken);
        }

        public ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default) => inner.NewChannelAsync(prefix, cancellationToken);

        public ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default) => inner.GroupAddAsync(group, channel, cancellationToken);

        public ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default) => inner.GroupDiscardAsync(group, channel, cancellationToken);

        public ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default) => inner.GroupSendAsync(group, message, cancellationToken);

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        public void CountListen() => Interlocked.Increment(ref _listens);
    }

    /// <summary>A layer of someone else's that offers listening (here by asking the in-memory layer it wraps, through
    /// the public interface only).</summary>
    private sealed class ListeningLayer(CountingLayer counting) : IChannelLayer, IListeningChannelLayer
    {
        private readonly IListeningChannelLayer _listening = counting.Inner;

        public ChannelLayerExtensions Extensions => counting.Extensions;

        public ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default) => counting.SendAsync(channel, message, cancellationToken);

        public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default) => counting.ReceiveAsync(channel, cancellationToken);

        public ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default) => counting.NewChannelAsync(prefix, cancellationToken);

        public ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default) => counting.GroupAddAsync(group, channel, cancellationToken);

        public ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default) => counting.GroupDiscardAsync(group, channel, cancellationToken);

        public ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default) => counting.GroupSendAsync(group, message, cancellationToken);

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => counting.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => counting.DisposeAsync();

        public bool TryReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken, out ChannelMessage? message)
        {
            counting.CountListen();
            return _listening.TryReceiveOrListen(channel, receiver, room, cancellationToken, out message);
        }

        public void StopListening(string channel) => _listening.StopListening(channel);
    }
}
