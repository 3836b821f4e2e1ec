using System.Net.WebSockets;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>Keep-alive pings (<see cref="Channels.Net.Hosting.ChannelsOptions.KeepAliveInterval"/> / KeepAliveTimeout) over Kestrel.</summary>
public sealed class KeepAliveTests
{
    private static Task<KestrelHost> StartAsync() => KestrelHost.StartAsync(
        app => app.MapChannels(new UrlRouter(Path("ws/echo/", Consumer<EchoConsumer>()))),
        options =>
        {
            options.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
            // 2 s, not 1: on a loaded 2-core machine a client's pong once took longer than 1 s. The idle period below
            // (2.5 s) is still longer than the timeout, so a pong that never came would drop the connection.
            options.KeepAliveTimeout = TimeSpan.FromSeconds(2);
        });

    [Fact]
    public async Task A_reading_client_answers_pings_by_itself_and_stays_connected_across_an_idle_period_longer_than_the_interval()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        // ClientWebSocket answers a ping with a pong inside ReceiveAsync: keep one pending while idle.
        using var stopIdle = new CancellationTokenSource();
        var pending = client.ReceiveAsync(stopIdle.Token);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(pending.IsCompleted, "The connection ended while idle.");
        Assert.Equal(WebSocketState.Open, client.Socket.State);

        await client.SendAsync("still alive");
        var echo = await pending;
        Assert.Equal("still alive", echo.Text);
        Assert.DoesNotContain(host.Probe.Events, e => e.StartsWith("disconnect:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_server_sends_ping_frames_while_the_connection_is_idle_and_a_pong_keeps_it_open()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/echo/");
        var started = System.Diagnostics.Stopwatch.StartNew();

        var pings = 0;
        while (started.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            var (_, opcode, payload) = await raw.ReadFrameAsync();
            Assert.Equal(0x9, opcode); // Ping: KeepAliveTimeout makes the server expect an answer.
            pings++;
            await raw.SendFrameAsync(0xA, payload); // Pong with the ping's payload.
        }

        Assert.InRange(pings, 3, 20);
        await raw.SendTextAsync("after pings");
        Assert.Equal("after pings", await raw.ReadTextAsync());
    }

    [Fact]
    public async Task A_client_that_never_answers_pings_is_dropped_after_the_keep_alive_timeout_and_disconnect_gets_1006()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/echo/");
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.True(await raw.ServerClosedAsync());

        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
        Assert.Equal("disconnect:1006", await host.Probe.WaitForAsync("disconnect:"));
    }

    [Fact]
    public async Task A_client_websocket_with_no_receive_pending_does_not_answer_pings_and_is_dropped_with_1006()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        // Nobody reads on the client: ClientWebSocket handles pings only inside ReceiveAsync.
        Assert.Equal("disconnect:1006", await host.Probe.WaitForAsync("disconnect:"));

        // The client learns of it on its next read.
        await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveAsync());
    }
}
