using System.Net;
using Channels.Net.Routing;
using Channels.Net.Security;
using Microsoft.AspNetCore.Builder;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>The origin validators in front of a UrlRouter, over real sockets.</summary>
public sealed class OriginOverKestrelTests
{
    private static UrlRouter Router() => new(Path("ws/echo/", Consumer<EchoConsumer>()));

    [Fact]
    public async Task OriginValidator_lets_an_allowed_origin_connect_and_refuses_a_foreign_one_with_403()
    {
        await using var host = await KestrelHost.StartAsync(app =>
            app.MapChannels(new OriginValidator(Router(), ["https://chat.example.com", ".example.org"])));

        await using (var allowed = await WsClient.ConnectAsync(host.Ws("ws/echo/"), headers: [new("Origin", "https://chat.example.com")]))
        {
            await allowed.SendAsync("in");
            Assert.Equal("in", await allowed.ReceiveTextAsync());
        }

        await using (var sub = await WsClient.ConnectAsync(host.Ws("ws/echo/"), headers: [new("Origin", "http://www.example.org:8080")]))
        {
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, sub.Socket.State);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/echo/"), [new("Origin", "https://evil.example.net")]));
        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/echo/"), [new("Origin", "http://chat.example.com")]));
        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/echo/")));
        Assert.Contains(host.Logs.Entries, e => e.Message.Contains("evil.example.net", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AllowedHostsOriginValidator_uses_the_AllowedHosts_setting()
    {
        await using var host = await KestrelHost.StartAsync(
            app => app.MapChannels(new AllowedHostsOriginValidator(Router())),
            configure: builder => builder.Configuration["AllowedHosts"] = "127.0.0.1;*.example.com");

        await using (var self = await WsClient.ConnectAsync(host.Ws("ws/echo/"), headers: [new("Origin", $"http://127.0.0.1:{host.Port}")]))
        {
            await self.SendAsync("same host");
            Assert.Equal("same host", await self.ReceiveTextAsync());
        }

        await using (var sub = await WsClient.ConnectAsync(host.Ws("ws/echo/"), headers: [new("Origin", "https://app.example.com")]))
        {
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, sub.Socket.State);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/echo/"), [new("Origin", "https://example.com")]));
        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/echo/"), [new("Origin", "https://attacker.test")]));
        Assert.Equal(HttpStatusCode.Forbidden, await WsClient.RefusedAsync(host.Ws("ws/echo/"), [new("Origin", "null")]));
    }

    [Fact]
    public async Task Two_origin_headers_are_refused()
    {
        await using var host = await KestrelHost.StartAsync(app =>
            app.MapChannels(new OriginValidator(Router(), ["https://chat.example.com"])));
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/echo/", [("Origin", "https://chat.example.com"), ("Origin", "https://evil.example.net")]);

        Assert.Equal(403, raw.Status);
    }
}
