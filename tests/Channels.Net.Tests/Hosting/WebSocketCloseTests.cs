using Channels.Net.Layers;
using System.Net.WebSockets;
using System.Text;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>Every way a WebSocket ends over Kestrel; disconnect runs exactly once on each.</summary>
public sealed class WebSocketCloseTests
{
    private static Task<KestrelHost> StartAsync() =>
        KestrelHost.StartAsync(
            app => app.MapChannels(new UrlRouter(
                Path("ws/echo/", Consumer<EchoConsumer>()),
                Path("ws/command/", Consumer<CommandConsumer>()))),
            options => options.CloseTimeout = TimeSpan.FromSeconds(1));

    private static async Task AssertOneDisconnectAsync(KestrelHost host, int code)
    {
        Assert.Equal($"disconnect:{code}", await host.Probe.WaitForAsync("disconnect:"));
        await Task.Delay(300);
        Assert.Equal(1, host.Probe.Events.Count(e => e.StartsWith("disconnect:", StringComparison.Ordinal)));
    }

    /// <summary>Nobody is left in group "closers": a probe channel added now is the only receiver.</summary>
    private static async Task AssertGroupLeftAsync(KestrelHost host)
    {
        var layer = host.Layer;
        var probe = await layer.NewChannelAsync().Within();
        await layer.GroupAddAsync("closers", probe).Within();
        await layer.GroupSendAsync("closers", new { type = "closers.notice", text = "anyone?" }).Within();
        Assert.Equal("anyone?", (await layer.ReceiveAsync(probe).Within()).GetString("text"));
        await layer.GroupDiscardAsync("closers", probe).Within();
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(4321)]
    public async Task A_client_close_code_reaches_disconnect_exactly_once(int code)
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));
        await client.SendAsync("x");
        await client.ReceiveTextAsync();

        await client.CloseAsync((WebSocketCloseStatus)code, "client leaves");

        Assert.Equal(WebSocketState.Closed, client.Socket.State);
        Assert.Equal((WebSocketCloseStatus)code, client.Socket.CloseStatus);
        await AssertOneDisconnectAsync(host, code);
    }

    [Fact]
    public async Task A_client_that_aborts_disconnects_once_with_1006()
    {
        await using var host = await StartAsync();
        var client = await WsClient.ConnectAsync(host.Ws("ws/command/"));
        await client.SendAsync("hi");
        Assert.Equal("echo:hi", await client.ReceiveTextAsync());

        client.Socket.Abort();

        await AssertOneDisconnectAsync(host, 1006);
        await AssertGroupLeftAsync(host);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_client_whose_tcp_connection_is_reset_disconnects_once_with_1006()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/command/");
        Assert.Equal(101, raw.Status);
        await raw.SendTextAsync("hi");
        Assert.Equal("echo:hi", await raw.ReadTextAsync());

        raw.Vanish();

        await AssertOneDisconnectAsync(host, 1006);
        await AssertGroupLeftAsync(host);
    }

    [Fact]
    public async Task A_client_that_vanishes_while_the_server_sends_disconnects_once_with_1006()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/command/");
        await host.Probe.WaitForAsync("connect");

        raw.Vanish();
        for (var i = 0; i < 50; i++)
        {
            await host.Layer.GroupSendAsync("closers", new { type = "closers.notice", text = new string('x', 1000) }).Within();
        }

        await AssertOneDisconnectAsync(host, 1006);
    }

    [Fact]
    public async Task A_server_close_reaches_the_client_with_its_code_and_reason()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/command/"));

        await client.SendAsync("close");
        var close = await client.ReceiveCloseAsync();

        Assert.Equal((4000, "bye"), (close.Code, close.CloseDescription));
        await client.CloseAsync((WebSocketCloseStatus)4000, "bye");
        await AssertOneDisconnectAsync(host, 4000);
        await AssertGroupLeftAsync(host);
    }

    [Fact]
    public async Task After_a_server_close_a_client_that_never_answers_is_dropped_after_the_close_timeout()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/command/");
        await raw.SendTextAsync("close");
        var (_, opcode, payload) = await raw.ReadFrameAsync();
        Assert.Equal(0x8, opcode);
        Assert.Equal(4000, (payload[0] << 8) | payload[1]);
        Assert.Equal("bye", Encoding.UTF8.GetString(payload, 2, payload.Length - 2));

        // The raw client never sends its close frame: after CloseTimeout (1 s) the server drops it.
        Assert.True(await raw.ServerClosedAsync());
        await AssertOneDisconnectAsync(host, 1006);
    }

    [Fact]
    public async Task A_handler_that_throws_closes_with_1011_and_leaves_its_groups()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/command/"));
        await host.Layer.GroupSendAsync("closers", new { type = "closers.notice", text = "joined" }).Within();
        Assert.Equal("notice:joined", await client.ReceiveTextAsync());

        await client.SendAsync("throw");
        var close = await client.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.InternalServerError, close.CloseStatus);
        await AssertOneDisconnectAsync(host, 1011);
        await AssertGroupLeftAsync(host);
        Assert.Contains(host.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Exception?.Message == "the handler failed on purpose");
    }

    [Fact]
    public async Task A_stop_exception_closes_with_1000()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/command/"));

        await client.SendAsync("stop");
        var close = await client.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.NormalClosure, close.CloseStatus);
        await AssertOneDisconnectAsync(host, 1000);
        await AssertGroupLeftAsync(host);
    }

    [Fact]
    public async Task Stopping_the_server_closes_open_websockets_with_1001_and_runs_disconnect_once()
    {
        var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/command/"));
        await host.Probe.WaitForAsync("connect");
        var probe = host.Probe;
        var stopped = System.Diagnostics.Stopwatch.StartNew();

        var receive = client.ReceiveAsync();
        var stopping = host.DisposeAsync().AsTask();
        var close = await receive;
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "Server shutting down"), (close.CloseStatus, close.CloseDescription));
        await client.CloseAsync(WebSocketCloseStatus.EndpointUnavailable);
        await stopping.Within();

        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2.5), $"Stopping took {stopped.Elapsed}: the server waited for the shutdown timeout instead of closing.");
        Assert.Equal(["connect", "disconnect:1001"], probe.Events);
    }
}
