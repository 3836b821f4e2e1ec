using System.Net;
using System.Net.WebSockets;

namespace Chat.Tests;

/// <summary>The sample as a browser sees it: the page, the rooms, the origin check.</summary>
public sealed class ChatTests : IAsyncLifetime
{
    private ChatServer _server = null!;

    public async Task InitializeAsync() => _server = await ChatServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Root_serves_the_page_its_script_and_stylesheet()
    {
        using var http = _server.CreateHttpClient();

        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"chat.js\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"chat.css\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("://", html, StringComparison.Ordinal); // everything is served locally, no CDN

        using var script = await http.GetAsync("/chat.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains(script.Content.Headers.ContentType?.MediaType, new[] { "text/javascript", "application/javascript" });
        var js = await script.Content.ReadAsStringAsync();
        Assert.Contains("/ws/chat/", js, StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", js, StringComparison.Ordinal); // user text goes through textContent only

        using var css = await http.GetAsync("/chat.css");
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Two_clients_in_a_room_both_receive_what_one_sends()
    {
        using var alice = await _server.ConnectAsync("lobby");
        using var bob = await _server.ConnectAsync("lobby");

        await alice.SendTextAsync("hello <b>lobby</b> 你好");

        Assert.Equal("hello <b>lobby</b> 你好", await alice.ReceiveTextAsync());
        Assert.Equal("hello <b>lobby</b> 你好", await bob.ReceiveTextAsync());

        await bob.SendTextAsync("hi alice");
        Assert.Equal("hi alice", await alice.ReceiveTextAsync());
        Assert.Equal("hi alice", await bob.ReceiveTextAsync());

        await alice.CloseNormallyAsync();
        await bob.CloseNormallyAsync();
    }

    [Fact]
    public async Task A_client_in_another_room_receives_nothing()
    {
        using var alice = await _server.ConnectAsync("lobby");
        using var bob = await _server.ConnectAsync("lobby");
        using var carol = await _server.ConnectAsync("other");

        await alice.SendTextAsync("for the lobby only");
        Assert.Equal("for the lobby only", await alice.ReceiveTextAsync());
        Assert.Equal("for the lobby only", await bob.ReceiveTextAsync());

        // The lobby's group send is complete (both members got it), so anything it had put in
        // carol's channel would come before her own later message.
        await carol.SendTextAsync("for the other room");
        Assert.Equal("for the other room", await carol.ReceiveTextAsync());

        await alice.CloseNormallyAsync();
        await bob.CloseNormallyAsync();
        await carol.CloseNormallyAsync();
    }

    [Fact]
    public async Task Binary_frames_are_ignored()
    {
        using var alice = await _server.ConnectAsync("lobby");
        using (var cts = new CancellationTokenSource(ChatServer.Timeout))
        {
            await alice.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, cts.Token).WaitAsync(ChatServer.Timeout);
        }

        await alice.SendTextAsync("text");
        Assert.Equal("text", await alice.ReceiveTextAsync());
        Assert.Equal(WebSocketState.Open, alice.State);
        await alice.CloseNormallyAsync();
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://127.0.0.1.evil.example")]
    [InlineData("null")]
    public async Task A_foreign_origin_is_refused_with_403(string origin)
    {
        Assert.Equal(403, await _server.RefusedStatusAsync("lobby", origin));
    }

    [Fact]
    public async Task A_handshake_without_origin_is_refused_with_403()
    {
        Assert.Equal(403, await _server.RefusedStatusAsync("lobby", origin: null));
    }

    [Fact]
    public async Task The_page_origin_is_allowed_as_localhost_and_as_127_0_0_1()
    {
        var port = _server.BaseAddress.Port;
        using var viaLocalhost = await _server.ConnectAsync("lobby", $"http://localhost:{port}");
        using var viaLoopback = await _server.ConnectAsync("lobby", $"http://127.0.0.1:{port}");

        await viaLocalhost.SendTextAsync("both origins");
        Assert.Equal("both origins", await viaLoopback.ReceiveTextAsync());

        await viaLocalhost.CloseNormallyAsync();
        await viaLoopback.CloseNormallyAsync();
    }

    [Fact]
    public async Task A_room_the_route_admits_but_a_group_name_cannot_hold_is_refused_with_403()
    {
        Assert.Equal(403, await _server.RefusedStatusAsync("caf%C3%A9", _server.Origin)); // \w admits é; group names are ASCII
        Assert.Equal(403, await _server.RefusedStatusAsync(new string('r', 100), _server.Origin)); // group names are under 100 characters

        using var longest = await _server.ConnectAsync(new string('r', 99));
        await longest.SendTextAsync("fits");
        Assert.Equal("fits", await longest.ReceiveTextAsync());
        await longest.CloseNormallyAsync();
    }

    [Fact]
    public async Task Paths_outside_the_route_are_not_found()
    {
        Assert.Equal(404, await _server.RefusedStatusAsync("a/b", _server.Origin));
    }
}
