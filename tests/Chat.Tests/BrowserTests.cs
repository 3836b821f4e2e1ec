using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Xunit.Abstractions;

namespace Chat.Tests;

/// <summary>
/// The page in a real browser: headless Chromium (Debian: <c>apt-get install -y chromium</c>; or set
/// <c>CHROMIUM</c> to a binary). Without Chromium this test FAILS, it never passes silently; leave it
/// out with <c>--filter Category!=Browser</c>.
/// </summary>
[Trait("Category", "Browser")]
public sealed class BrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Chromium_headless_page_chats_escapes_switches_rooms_and_reconnects()
    {
        var executable = HeadlessChromium.FindExecutable()
            ?? throw new InvalidOperationException(
                "Chromium is not installed: this browser test needs it (Debian: apt-get update && apt-get install -y chromium, "
                + "or set CHROMIUM=/path/to/chrome). To skip the browser test, run with --filter Category!=Browser.");
        var clock = Stopwatch.StartNew();
        ChatServer? server = await ChatServer.StartAsync();
        var port = server.BaseAddress.Port;
        try
        {
            await using var page = await HeadlessChromium.LaunchAsync(executable, $"{server.BaseAddress}?room=lobby", ChatServer.Timeout);
            await page.WaitForAsync("document.getElementById('state').textContent === 'connected'", "the page to connect to room lobby", ChatServer.Timeout);
            Assert.Equal("lobby", (await page.EvaluateAsync("document.getElementById('room').value"))?.GetValue<string>());
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: page connected");

            // Someone else's text, markup included, shows as text.
            using (var bob = await server.ConnectAsync("lobby"))
            {
                const string Hostile = "<img src=x onerror=\"document.title='pwned'\"> hi";
                await bob.SendTextAsync(Hostile);
                Assert.Equal(Hostile, await bob.ReceiveTextAsync());
                await page.WaitForAsync($"[...document.querySelectorAll('#log li')].some(li => li.lastChild.textContent === {JsonSerializer.Serialize(Hostile)})", "bob's message in the log", ChatServer.Timeout);
                Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('#log img').length"))!.GetValue<int>());

                // Typing and Enter sends; the input empties.
                await page.EvaluateAsync("document.getElementById('message').focus()");
                await page.TypeAndPressEnterAsync("typed in the browser");
                Assert.Equal("typed in the browser", await bob.ReceiveTextAsync());
                Assert.Equal("", (await page.EvaluateAsync("document.getElementById('message').value"))?.GetValue<string>());
                await page.WaitForAsync("[...document.querySelectorAll('#log li')].some(li => li.lastChild.textContent === 'typed in the browser')", "the page's own message echoed", ChatServer.Timeout);

                // The room picker moves the page to room "other" (and into the URL).
                await page.EvaluateAsync("(() => { const r = document.getElementById('room'); r.focus(); r.select(); })()");
                await page.TypeAndPressEnterAsync("other");
                await page.WaitForAsync("location.search === '?room=other' && document.getElementById('state').textContent === 'connected'", "the page to connect to room other", ChatServer.Timeout);
                await bob.SendTextAsync("lobby only");
                Assert.Equal("lobby only", await bob.ReceiveTextAsync());
                using var carol = await server.ConnectAsync("other");
                await carol.SendTextAsync("other room");
                Assert.Equal("other room", await carol.ReceiveTextAsync());
                await page.WaitForAsync("[...document.querySelectorAll('#log li')].some(li => li.lastChild.textContent === 'other room')", "carol's message", ChatServer.Timeout);
                Assert.False((await page.EvaluateAsync("[...document.querySelectorAll('#log li')].some(li => li.lastChild.textContent === 'lobby only')"))!.GetValue<bool>());
                await bob.CloseNormallyAsync();
                await carol.CloseNormallyAsync();
            }

            var shot = Path.Combine(AppContext.BaseDirectory, "chat-page.png");
            await File.WriteAllBytesAsync(shot, await page.ScreenshotAsync());
            output.WriteLine($"screenshot: {shot}");

            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: chatted, switched rooms");

            // The server goes away: the page counts down to its next try ...
            await server.DisposeAsync();
            server = null;
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: server stopped");
            await page.WaitForAsync("/^reconnecting in \\d+s$/.test(document.getElementById('state').textContent)", "'reconnecting in Ns'", ChatServer.Timeout);
            Assert.True((await page.EvaluateAsync("document.getElementById('send').disabled"))!.GetValue<bool>());
            await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "chat-page-reconnecting.png"), await page.ScreenshotAsync());

            // ... and is back when the server is.
            server = await ChatServer.StartAsync("--urls", $"http://127.0.0.1:{port}");
            await page.WaitForAsync("document.getElementById('state').textContent === 'connected'", "the page to reconnect", ReconnectTimeout);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: page reconnected");
            using (var dave = await server.ConnectAsync("other"))
            {
                await dave.SendTextAsync("after the restart");
                await page.WaitForAsync("[...document.querySelectorAll('#log li')].some(li => li.lastChild.textContent === 'after the restart')", "a message after reconnecting", ChatServer.Timeout);
                await dave.CloseNormallyAsync();
            }

            Assert.NotEqual("pwned", (await page.EvaluateAsync("document.title"))?.GetValue<string>());
            output.WriteLine($"browser test took {clock.Elapsed.TotalSeconds:F1}s");
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }
}
