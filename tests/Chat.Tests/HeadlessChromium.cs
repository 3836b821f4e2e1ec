using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chat.Tests;

/// <summary>
/// Headless Chromium driven over the DevTools protocol with nothing but <see cref="ClientWebSocket"/>:
/// enough to load a page, evaluate script, type, press keys and take a screenshot.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _pump = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The browser: <c>CHROMIUM</c> if set, else <c>chromium</c> or <c>chromium-browser</c> on PATH.</summary>
    public static string? FindExecutable()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { System.IO.Path.Combine(dir, "chromium"), System.IO.Path.Combine(dir, "chromium-browser") })
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Starts the browser on <paramref name="url"/> and attaches to its page.</summary>
    public static async Task<HeadlessChromium> LaunchAsync(string executable, string url, TimeSpan timeout)
    {
        var profile = Directory.CreateTempSubdirectory("chat-chromium-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--remote-debugging-port=0", $"--user-data-dir={profile}", "--window-size=800,600", url,
        })
        {
            start.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) =>
        {
            const string Marker = "DevTools listening on ";
            if (e.Data?.IndexOf(Marker, StringComparison.Ordinal) is >= 0 and var at)
            {
                listening.TrySetResult(e.Data[(at + Marker.Length)..].Trim());
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"{executable} exited with {process.ExitCode} before DevTools listened."));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            var browserEndpoint = new Uri(await listening.Task.WaitAsync(timeout));
            using var http = new HttpClient { Timeout = timeout };
            var deadline = DateTime.UtcNow + timeout;
            string? pageEndpoint = null;
            while (pageEndpoint is null)
            {
                var targets = JsonNode.Parse(await http.GetStringAsync($"http://{browserEndpoint.Authority}/json/list"))!.AsArray();
                pageEndpoint = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
                if (pageEndpoint is null)
                {
                    Assert.True(DateTime.UtcNow < deadline, "Chromium opened no page.");
                    await Task.Delay(100);
                }
            }

            using var cts = new CancellationTokenSource(timeout);
            await browser._socket.ConnectAsync(new Uri(pageEndpoint), cts.Token).WaitAsync(timeout);
            browser._pump = browser.PumpAsync();
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends a DevTools command and returns its <c>result</c>.</summary>
    public async Task<JsonObject> SendAsync(string method, object? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var json = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        using var cts = new CancellationTokenSource(ChatServer.Timeout);
        await _socket.SendAsync(json, WebSocketMessageType.Text, true, cts.Token).WaitAsync(ChatServer.Timeout);
        var message = await reply.Task.WaitAsync(ChatServer.Timeout);
        if (message["error"] is { } error)
        {
            throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}");
        }

        return message["result"]!.AsObject();
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value (JSON-serializable values only).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true });
        if (result["exceptionDetails"] is { } exception)
        {
            throw new InvalidOperationException($"{expression} threw: {exception.ToJsonString()}");
        }

        return result["result"]!["value"];
    }

    /// <summary>
    /// Polls <paramref name="expression"/> until it is true, failing with <paramref name="what"/> after
    /// <paramref name="timeout"/>. An expression that throws (the page is still loading) counts as false.
    /// </summary>
    public async Task WaitForAsync(string expression, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await EvaluateAsync($"(() => {{ try {{ return !!({expression}); }} catch {{ return false; }} }})()") is JsonValue value && value.GetValue<bool>())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var state = await EvaluateAsync("document.getElementById('state')?.textContent ?? document.readyState");
                Assert.Fail($"Timed out after {timeout.TotalSeconds}s waiting for {what}; the page's state reads '{state}'.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Types <paramref name="text"/> into the focused element and presses Enter, as a user would.</summary>
    public async Task TypeAndPressEnterAsync(string text)
    {
        await SendAsync("Input.insertText", new { text });
        await SendAsync("Input.dispatchKeyEvent", new { type = "keyDown", key = "Enter", code = "Enter", windowsVirtualKeyCode = 13, text = "\r" });
        await SendAsync("Input.dispatchKeyEvent", new { type = "keyUp", key = "Enter", code = "Enter", windowsVirtualKeyCode = 13 });
    }

    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }

    private async Task PumpAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var node = JsonNode.Parse(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length))!.AsObject();
                message.SetLength(0);
                if (node["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var reply))
                {
                    reply.TrySetResult(node);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }

        foreach (var reply in _pending.Values)
        {
            reply.TrySetException(new InvalidOperationException("The DevTools connection closed."));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        _socket.Dispose();
        await _pump.WaitAsync(ChatServer.Timeout);
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(ChatServer.Timeout);
        _process.Dispose();
        _stop.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium's last writes may still be settling; the temp directory is the OS's to clean.
        }
    }
}
