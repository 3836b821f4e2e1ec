using System.Net.WebSockets;
using System.Reflection;
using System.Text;
using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests;

/// <summary>
/// The sample's real application (<see cref="Program.CreateApp"/>) on Kestrel at 127.0.0.1 on a free
/// port, with the sample's directory as content root (its appsettings.json and wwwroot), in Production.
/// </summary>
public sealed class ChatServer : IAsyncDisposable
{
    /// <summary>The bound on every wait in these tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);

    private ChatServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The sample's project directory.</summary>
    public static string ContentRoot { get; } = typeof(ChatServer).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ChatContentRoot").Value!;

    public WebApplication App { get; }

    /// <summary><c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The page's own origin, as a browser sends it.</summary>
    public string Origin => BaseAddress.GetLeftPart(UriPartial.Authority);

    public IChannelLayer Layer => App.Services.GetRequiredService<IChannelLayerManager>().GetLayer();

    /// <summary>The arguments the tests give <see cref="Program.CreateApp"/>, then <paramref name="extraArgs"/>.</summary>
    public static string[] Args(params string[] extraArgs) =>
        ["--urls", "http://127.0.0.1:0", "--contentRoot", ContentRoot, "--environment", "Production", .. extraArgs];

    public static async Task<ChatServer> StartAsync(params string[] extraArgs)
    {
        var app = Program.CreateApp(Args(extraArgs));
        try
        {
            using var cts = new CancellationTokenSource(Timeout);
            await app.StartAsync(cts.Token).WaitAsync(Timeout);
            return new ChatServer(app, new Uri(app.Urls.Single() + "/"));
        }
        catch
        {
            await app.DisposeAsync().AsTask().WaitAsync(Timeout);
            throw;
        }
    }

    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress, Timeout = Timeout };

    /// <summary>Opens <c>ws/chat/{room}/</c> with <paramref name="origin"/> (by default the page's own).</summary>
    public async Task<ClientWebSocket> ConnectAsync(string room, string? origin = null)
    {
        var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        ws.Options.SetRequestHeader("Origin", origin ?? Origin);
        using var cts = new CancellationTokenSource(Timeout);
        await ws.ConnectAsync(new Uri($"ws://{BaseAddress.Authority}/ws/chat/{room}/"), cts.Token).WaitAsync(Timeout);
        return ws;
    }

    /// <summary>Tries to open <c>ws/chat/{room}/</c> and returns the HTTP status of a refused handshake.</summary>
    public async Task<int> RefusedStatusAsync(string room, string? origin = null)
    {
        using var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            ws.Options.SetRequestHeader("Origin", origin);
        }

        using var cts = new CancellationTokenSource(Timeout);
        await Assert.ThrowsAsync<WebSocketException>(() =>
            ws.ConnectAsync(new Uri($"ws://{BaseAddress.Authority}/ws/chat/{room}/"), cts.Token).WaitAsync(Timeout));
        return (int)ws.HttpStatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        // Shutdown does not close open WebSockets yet: the host waits for them until its token fires,
        // then Kestrel aborts them. A short grace keeps a test that stops the server mid-chat quick.
        using var grace = new CancellationTokenSource(ShutdownGrace);
        try
        {
            await App.StopAsync(grace.Token).WaitAsync(Timeout);
        }
        finally
        {
            await App.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }
}

public static class WebSocketTestExtensions
{
    public static async Task SendTextAsync(this WebSocket ws, string text)
    {
        using var cts = new CancellationTokenSource(ChatServer.Timeout);
        await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token).WaitAsync(ChatServer.Timeout);
    }

    /// <summary>The next message, which must be text, within <see cref="ChatServer.Timeout"/>.</summary>
    public static async Task<string> ReceiveTextAsync(this WebSocket ws)
    {
        using var cts = new CancellationTokenSource(ChatServer.Timeout);
        var buffer = new byte[4096];
        using var text = new MemoryStream();
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, cts.Token).WaitAsync(ChatServer.Timeout);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            text.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(text.ToArray());
            }
        }
    }

    public static async Task CloseNormallyAsync(this WebSocket ws)
    {
        using var cts = new CancellationTokenSource(ChatServer.Timeout);
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token).WaitAsync(ChatServer.Timeout);
    }
}
