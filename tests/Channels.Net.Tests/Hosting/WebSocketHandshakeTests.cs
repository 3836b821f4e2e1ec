using System.Net;
using System.Net.WebSockets;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>The WebSocket handshake over Kestrel: accepted, refused, timed out, not routed, passed on.</summary>
public sealed class WebSocketHandshakeTests
{
    private static UrlRouter Router() => new(
        Path("ws/accept/", Consumer<HandshakeConsumer>()),
        Path("ws/close-first/", Consumer<ClosingBeforeAcceptConsumer>()),
        Path("ws/deny/", Consumer<DenyingConsumer>()),
        Path("ws/silent/", Consumer<SilentConsumer>()),
        Path("ws/hang/", Consumer<HangingConsumer>()),
        Path("ws/echo/", Consumer<EchoConsumer>()),
        Path("ws/bad-accept/", Consumer<BadAcceptConsumer>()));

    private static Task<KestrelHost> StartAsync(TimeSpan? handshakeTimeout = null) =>
        KestrelHost.StartAsync(
            app => app.MapChannels(Router()),
            options => options.HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(5));

    [Fact]
    public async Task An_accepting_consumer_chooses_a_subprotocol_from_the_clients_list_and_adds_response_headers()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/accept/"), subprotocols: ["chat.v1", "chat.v2", "other"]);

        Assert.Equal(WebSocketState.Open, client.Socket.State);
        Assert.Equal("chat.v2", client.Socket.SubProtocol);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, client.Socket.HttpStatusCode);
        var headers = client.Socket.HttpResponseHeaders!;
        Assert.Equal(["accepted"], headers["x-channels"]);
        Assert.Equal(["lobby"], headers["x-room"]);
        Assert.Equal(["chat.v1", "chat.v2", "other"], (await host.Probe.ScopeAsync()).Subprotocols);

        await client.SendAsync("ping");
        Assert.Equal("ok:ping", await client.ReceiveTextAsync());
        await client.CloseAsync();
    }

    [Fact]
    public async Task Closing_before_accept_refuses_the_handshake_with_403_and_disconnect_runs_once()
    {
        await using var host = await StartAsync();

        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/close-first/")));

        await host.Probe.WaitForAsync("disconnect:");
        await Task.Delay(200);
        Assert.Equal(["disconnect:1000"], host.Probe.Events);
    }

    [Fact]
    public async Task A_deny_exception_refuses_the_handshake_with_403()
    {
        await using var host = await StartAsync();

        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/deny/")));

        await host.Probe.WaitForAsync("disconnect:");
        await Task.Delay(200);
        Assert.Single(host.Probe.Events);
    }

    [Fact]
    public async Task A_consumer_that_never_answers_is_refused_with_500_after_the_handshake_timeout()
    {
        await using var host = await StartAsync(TimeSpan.FromMilliseconds(300));
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.Equal(HttpStatusCode.InternalServerError, await WsClient.RefusedAsync(host.Ws("ws/silent/")));

        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        await host.Probe.WaitForAsync("disconnect:");
        Assert.Equal(1, host.Probe.Events.Count(e => e.StartsWith("disconnect:", StringComparison.Ordinal)));
        Assert.Contains(host.Logs.Entries, e => e.EventId.Id == 202);
    }

    [Fact]
    public async Task A_consumer_stuck_in_connect_is_refused_with_500_after_the_handshake_timeout_and_is_aborted()
    {
        await using var host = await StartAsync(TimeSpan.FromMilliseconds(300));

        Assert.Equal(HttpStatusCode.InternalServerError, await WsClient.RefusedAsync(host.Ws("ws/hang/")));

        await host.Probe.WaitForAsync("connect-aborted");
        await host.Probe.WaitForAsync("disconnect:");
        Assert.Equal(1, host.Probe.Events.Count(e => e.StartsWith("disconnect:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_path_no_route_matches_gets_404()
    {
        await using var host = await StartAsync();

        Assert.Equal(HttpStatusCode.NotFound, await WsClient.RefusedAsync(host.Ws("ws/nowhere/")));

        // The server keeps serving.
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));
        await client.SendAsync("still here");
        Assert.Equal("still here", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Requests_without_a_route_fall_through_to_minimal_apis_and_static_files_beside_MapChannels()
    {
        var root = Directory.CreateTempSubdirectory("channels-static-");
        try
        {
            await File.WriteAllTextAsync(System.IO.Path.Combine(root.FullName, "hello.txt"), "static hello");
            await using var host = await KestrelHost.StartAsync(app =>
            {
                app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root.FullName) });
                app.MapChannels(Router());
                app.MapGet("/api/ping", () => "pong");
                app.Map("/ws/fallback/", (HttpContext context) =>
                    context.WebSockets.IsWebSocketRequest ? Results.StatusCode(418) : Results.Text("plain fallback"));
            });
            using var http = new HttpClient { BaseAddress = host.HttpUri, Timeout = Limits.Step };

            Assert.Equal("pong", await http.GetStringAsync("api/ping").Within());
            Assert.Equal("static hello", await http.GetStringAsync("hello.txt").Within());
            Assert.Equal("plain fallback", await http.GetStringAsync("ws/fallback/").Within());
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("nothing/here").Within()).StatusCode);

            // A WebSocket request with no Channels route reaches the endpoint mapped beside MapChannels.
            Assert.Equal((HttpStatusCode)418, await WsClient.RefusedAsync(host.Ws("ws/fallback/")));

            // And the Channels route still works.
            await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));
            await client.SendAsync("routed");
            Assert.Equal("routed", await client.ReceiveTextAsync());
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("protocol")]
    [InlineData("header")]
    [InlineData("handshake-header")]
    public async Task Accepting_with_a_subprotocol_the_client_did_not_offer_or_a_bad_header_fails_the_handshake_with_500(string query)
    {
        await using var host = await StartAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, await WsClient.RefusedAsync(host.Ws("ws/bad-accept/?" + query)));

        await host.Probe.WaitForAsync("disconnect:");
        Assert.Contains(host.Logs.Entries, e => e.Exception is ArgumentException);
    }

    [Fact]
    public async Task A_client_holding_the_connection_open_after_a_handshake_timeout_does_not_keep_a_stuck_consumer_alive()
    {
        await using var host = await StartAsync(TimeSpan.FromMilliseconds(300));
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/hang/");

        Assert.Equal(500, raw.Status);
        await host.Probe.WaitForAsync("connect-aborted");
        await host.Probe.WaitForAsync("disconnect:");
    }

    [Fact]
    public async Task A_request_that_is_not_a_websocket_upgrade_never_reaches_a_websocket_router()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient { Timeout = Limits.Step };

        var response = await http.GetAsync(host.Http("ws/echo/")).Within();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(host.Probe.Events);
    }

    [Fact]
    public async Task Stopping_the_server_during_a_pending_handshake_answers_503_and_the_consumer_is_aborted()
    {
        var host = await StartAsync(TimeSpan.FromSeconds(30));
        var probe = host.Probe;
        var connecting = RawWebSocket.ConnectAsync(host.Port, "/ws/hang/");
        await probe.WaitForAsync("connect");

        var stopping = host.DisposeAsync().AsTask();
        await using var raw = await connecting;
        await stopping.Within();

        Assert.Equal(503, raw.Status);
        Assert.Equal(["connect", "connect-aborted", "disconnect:1001"], probe.Events);
    }
}
