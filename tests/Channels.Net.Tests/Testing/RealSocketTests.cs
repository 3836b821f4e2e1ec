using System.Net.WebSockets;
using System.Text;
using Channels.Net.Layers;
using Channels.Net.Routing;
using Channels.Net.Tests.Consumers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Testing;

/// <summary>The same consumers over real Kestrel sockets (the recipe of docs/testing.md).</summary>
public sealed class RealSocketTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // Any free port.
        builder.Services.AddChannels(c => c.AddInMemoryLayer());
        _app = builder.Build();
        _app.MapChannels(new ProtocolTypeRouter
        {
            { ChannelScopeType.WebSocket, new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", Consumer<ChatConsumer>())) },
            { ChannelScopeType.Http, new UrlRouter(Path("events/", Consumer<NewsEventsConsumer>())) },
        });
        await _app.StartAsync();
        _base = new Uri(_app.Urls.First()); // After start: the port Kestrel picked.
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_websocket_client_chats_over_kestrel()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{_base.Authority}/ws/chat/kestrel/"), timeout.Token);

        await client.SendAsync("over a socket"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1024];
        var received = await client.ReceiveAsync(buffer, timeout.Token);

        Assert.Equal("over a socket", Encoding.UTF8.GetString(buffer, 0, received.Count));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
    }

    [Fact]
    public async Task An_sse_client_reads_events_over_kestrel()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var http = new HttpClient { BaseAddress = _base };
        using var response = await http.GetAsync("/events/?kestrel-news", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        Assert.Equal(": connected", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal("", await reader.ReadLineAsync(timeout.Token));

        var layer = _app.Services.GetRequiredService<IChannelLayer>();
        await layer.GroupSendAsync("kestrel-news", new { type = "news.item", text = "live" });
        Assert.Equal("data: live", await reader.ReadLineAsync(timeout.Token));

        await layer.GroupSendAsync("kestrel-news", new { type = "news.end" });
        Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal("event: end", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal("data: bye", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
        Assert.Null(await reader.ReadLineAsync(timeout.Token)); // The consumer ended the response.
    }

    [Fact]
    public async Task An_sse_client_that_hangs_up_ends_the_consumer_over_kestrel()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using (var http = new HttpClient { BaseAddress = _base })
        {
            using var response = await http.GetAsync("/events/?kestrel-leaves", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
            Assert.Equal(": connected", await reader.ReadLineAsync(timeout.Token));
        }

        // The connection is gone: Kestrel cancels RequestAborted, and the idle consumer ends once.
        while (!NewsEventsConsumer.Disconnects.ContainsKey("kestrel-leaves"))
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.Equal(1, NewsEventsConsumer.Disconnects["kestrel-leaves"]);
    }
}
