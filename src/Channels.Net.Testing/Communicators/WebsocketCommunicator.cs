using System.Text.Json;

namespace Channels.Net.Testing;

/// <summary>
/// Drives a WebSocket application in process, without sockets (Django's <c>WebsocketCommunicator</c>):
/// connect, send to it, receive from it, disconnect.
/// </summary>
/// <example>
/// <code>
/// await using var communicator = new WebsocketCommunicator(router, "/ws/chat/lobby/");
/// var connected = await communicator.ConnectAsync();
/// Assert.True(connected.Connected);
/// await communicator.SendToAsync("hello");
/// Assert.Equal("hello", await communicator.ReceiveFromAsync());
/// await communicator.DisconnectAsync();
/// </code>
/// </example>
public sealed class WebsocketCommunicator : IAsyncDisposable
{
    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(1);
    private readonly IChannelApplication _application;
    private readonly CommunicatorWebSocketSession _session = new();
    private Task? _running;

    /// <summary>Creates a communicator for <paramref name="path"/> (which may carry a query string).</summary>
    /// <param name="application">The application under test: a consumer, a router, a middleware.</param>
    /// <param name="path">The request path, e.g. <c>/ws/chat/lobby/?token=1</c>.</param>
    /// <param name="headers">Request headers; names are lower-cased.</param>
    /// <param name="subprotocols">Subprotocols the client offers.</param>
    /// <param name="services">The connection's services; by default a shared provider with an in-memory <c>default</c> layer.</param>
    public WebsocketCommunicator(
        IChannelApplication application,
        string path,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        IEnumerable<string>? subprotocols = null,
        IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(path);
        _application = application;
        var query = path.IndexOf('?', StringComparison.Ordinal);
        var rawPath = query < 0 ? path : path[..query];
        var decoded = Uri.UnescapeDataString(rawPath);
        Scope = new ChannelScope
        {
            Type = ChannelScopeType.WebSocket,
            Path = decoded,
            RawPath = rawPath,
            PathRemaining = decoded,
            QueryString = query < 0 ? "" : path[(query + 1)..],
            Scheme = "ws",
            Method = "GET",
            Headers = [.. (headers ?? []).Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value))],
            Subprotocols = [.. subprotocols ?? []],
            RequestServices = services ?? CommunicatorServices.Default,
        };
    }

    /// <summary>The scope the application gets; change it (<c>with { User = ... }</c>) before <see cref="ConnectAsync"/>.</summary>
    public ChannelScope Scope { get; set; }

    /// <summary>
    /// Starts the application and asks it to connect; returns whether it accepted (with its
    /// subprotocol) or refused (with the close code and HTTP status).
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">The application did neither within <paramref name="timeout"/>.</exception>
    public async Task<ConnectResult> ConnectAsync(TimeSpan? timeout = null)
    {
        if (_running is not null)
        {
            throw new InvalidOperationException("ConnectAsync was already called.");
        }

        _running = RunApplicationAsync();
        _session.Post(WebSocketEvent.Connect);
        var output = await ReceiveOutputAsync(timeout).ConfigureAwait(false);
        return output.Kind switch
        {
            WebsocketOutputKind.Accept => new ConnectResult(true, output.Subprotocol, null, null),
            WebsocketOutputKind.Close => new ConnectResult(false, null, output.Code, output.HttpStatus ?? 403),
            _ => throw new InvalidOperationException("The application sent a message before accepting the connection."),
        };
    }

    /// <summary>Sends a text message to the application.</summary>
    public Task SendToAsync(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _session.Post(WebSocketEvent.FromText(text));
        return Task.CompletedTask;
    }

    /// <summary>Sends a binary message to the application.</summary>
    public Task SendToAsync(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _session.Post(WebSocketEvent.FromBytes(bytes));
        return Task.CompletedTask;
    }

    /// <summary>Sends <paramref name="data"/> encoded as JSON text.</summary>
    public Task SendJsonToAsync(object? data) => SendToAsync(JsonSerializer.Serialize(data));

    /// <summary>The next text message the application sent.</summary>
    /// <exception cref="InvalidOperationException">The application sent something else (bytes, a close).</exception>
    /// <exception cref="ApplicationTimeoutException">Nothing came within <paramref name="timeout"/>.</exception>
    public async Task<string> ReceiveFromAsync(TimeSpan? timeout = null)
    {
        var output = await ReceiveOutputAsync(timeout).ConfigureAwait(false);
        return output switch
        {
            { Kind: WebsocketOutputKind.Send, Text: { } text } => text,
            { Kind: WebsocketOutputKind.Send } => throw new InvalidOperationException("Expected a text message, but the application sent bytes."),
            _ => throw new InvalidOperationException($"Expected a message, but the application did '{output.Kind}' (code {output.Code})."),
        };
    }

    /// <summary>The next binary message the application sent.</summary>
    public async Task<byte[]> ReceiveBytesFromAsync(TimeSpan? timeout = null)
    {
        var output = await ReceiveOutputAsync(timeout).ConfigureAwait(false);
        return output switch
        {
            { Kind: WebsocketOutputKind.Send, Bytes: { } bytes } => bytes,
            { Kind: WebsocketOutputKind.Send } => throw new InvalidOperationException("Expected a binary message, but the application sent text."),
            _ => throw new InvalidOperationException($"Expected a message, but the application did '{output.Kind}' (code {output.Code})."),
        };
    }

    /// <summary>The next text message, decoded as JSON.</summary>
    public async Task<JsonElement> ReceiveJsonFromAsync(TimeSpan? timeout = null) =>
        JsonSerializer.Deserialize<JsonElement>(await ReceiveFromAsync(timeout).ConfigureAwait(false));

    /// <summary>The next thing the application did (an accept, a message or a close).</summary>
    /// <exception cref="ApplicationTimeoutException">Nothing came within <paramref name="timeout"/>.</exception>
    public async Task<WebsocketOutput> ReceiveOutputAsync(TimeSpan? timeout = null)
    {
        EnsureStarted();
        var wait = timeout ?? s_defaultTimeout;
        using var cts = new CancellationTokenSource(wait);
        try
        {
            if (await _session.Output.WaitToReadAsync(cts.Token).ConfigureAwait(false) && _session.Output.TryRead(out var output))
            {
                return output;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new ApplicationTimeoutException($"The application sent nothing within {wait.TotalSeconds} s.");
        }

        await _running!.ConfigureAwait(false); // Surfaces the application's exception, if it failed.
        throw new InvalidOperationException("The application has ended and sent nothing more.");
    }

    /// <summary>True when the application sends nothing within <paramref name="timeout"/> (default 0.1 s).</summary>
    public async Task<bool> ReceiveNothingAsync(TimeSpan? timeout = null)
    {
        EnsureStarted();
        if (_session.Output.TryPeek(out _))
        {
            return false;
        }

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMilliseconds(100));
        try
        {
            return !await _session.Output.WaitToReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return true;
        }
    }

    /// <summary>The client leaves with <paramref name="code"/>; waits for the application to finish.</summary>
    /// <exception cref="ApplicationTimeoutException">The application did not finish within <paramref name="timeout"/>.</exception>
    public async Task DisconnectAsync(int code = 1000, TimeSpan? timeout = null)
    {
        EnsureStarted();
        _session.ClientGone(code);
        await WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Waits for the application to finish, surfacing its exception if it failed.</summary>
    public async Task WaitAsync(TimeSpan? timeout = null)
    {
        EnsureStarted();
        var wait = timeout ?? s_defaultTimeout;
        try
        {
            await _running!.WaitAsync(wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ApplicationTimeoutException($"The application did not finish within {wait.TotalSeconds} s.");
        }
    }

    /// <summary>Disconnects the client if it is still connected and lets the application finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_running is null || _running.IsCompleted)
        {
            return;
        }

        _session.ClientGone(1000);
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // A test that failed early must not hang in its cleanup.
        }
    }

    private async Task RunApplicationAsync()
    {
        await Task.Yield();
        try
        {
            await _application.RunAsync(Scope, _session).ConfigureAwait(false);
            _session.CompleteOutput();
        }
        catch (Exception ex)
        {
            _session.CompleteOutput(ex);
            throw;
        }
    }

    private void EnsureStarted()
    {
        if (_running is null)
        {
            throw new InvalidOperationException("Call ConnectAsync first.");
        }
    }
}
