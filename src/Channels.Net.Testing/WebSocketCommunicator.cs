using System.Text.Json;

namespace Channels.Net.Testing;

/// <summary>
/// Drives a WebSocket application in process, without sockets (Django's <c>WebsocketCommunicator</c>):
/// connect, send to it, receive from it, disconnect.
/// </summary>
/// <example>
/// <code>
/// await using var communicator = new WebSocketCommunicator(router, "/ws/chat/lobby/");
/// var connected = await communicator.ConnectAsync();
/// Assert.True(connected.Connected);
/// await communicator.SendToAsync("hello");
/// Assert.Equal("hello", await communicator.ReceiveFromAsync());
/// await communicator.DisconnectAsync();
/// </code>
/// </example>
public class WebSocketCommunicator : IAsyncDisposable
{
    private readonly IChannelApplication _application;
    private readonly ApplicationRun<WebSocketOutput> _run = new("Call ConnectAsync first.");
    private readonly CommunicatorWebSocketSession _session;
    private ChannelScope _scope;

    /// <summary>Creates a communicator for <paramref name="path"/> (which may carry a query string).</summary>
    /// <param name="application">The application under test: a consumer, a router, a middleware.</param>
    /// <param name="path">The request path, e.g. <c>/ws/chat/lobby/?token=1</c>.</param>
    /// <param name="headers">Request headers; names are lower-cased.</param>
    /// <param name="subprotocols">Subprotocols the client offers.</param>
    /// <param name="services">The connection's services; by default <see cref="CommunicatorServices.Default"/>, with an in-memory <c>default</c> layer.</param>
    public WebSocketCommunicator(
        IChannelApplication application,
        string path,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        IEnumerable<string>? subprotocols = null,
        IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(path);
        _application = application;
        _session = new CommunicatorWebSocketSession(_run.Output);
        _scope = CommunicatorScope.ForPath(ChannelScopeType.WebSocket, "ws", "GET", path, headers, services, subprotocols);
    }

    /// <summary>The scope the application gets; change it (<c>with { User = ... }</c>) before <see cref="ConnectAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">Set after <see cref="ConnectAsync"/>, when the application already has its scope.</exception>
    public ChannelScope Scope
    {
        get => _scope;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (_run.Started)
            {
                throw new InvalidOperationException("The scope cannot change after ConnectAsync: the application already has it.");
            }

            _scope = value;
        }
    }

    /// <summary>
    /// Starts the application and asks it to connect; returns whether it accepted (with its
    /// subprotocol) or refused (with the close code and HTTP status).
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">The application did neither within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">ConnectAsync was already called.</exception>
    public async Task<ConnectResult> ConnectAsync(TimeSpan? timeout = null)
    {
        if (_run.Started)
        {
            throw new InvalidOperationException("ConnectAsync was already called.");
        }

        _run.Start(_application, _scope, _session);
        _session.Post(WebSocketEvent.Connect);
        var output = await _run.ReceiveAsync(timeout).ConfigureAwait(false);
        return output.Kind switch
        {
            WebsocketOutputKind.Accept => new ConnectResult(true, output.Subprotocol, null, null),
            WebsocketOutputKind.Close => new ConnectResult(false, null, output.Code, output.HttpStatus ?? 403),
            _ => throw new InvalidOperationException("The application sent a message before accepting the connection."),
        };
    }

    /// <summary>Sends a text message to the application.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="ConnectAsync"/>, or after <see cref="DisconnectAsync"/>.</exception>
    public Task SendToAsync(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Post(WebSocketEvent.FromText(text));
        return Task.CompletedTask;
    }

    /// <summary>Sends a binary message to the application.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="ConnectAsync"/>, or after <see cref="DisconnectAsync"/>.</exception>
    public Task SendToAsync(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Post(WebSocketEvent.FromBytes(bytes));
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
    /// <exception cref="InvalidOperationException">Before <see cref="ConnectAsync"/>, or the application ended without sending more.</exception>
    public Task<WebSocketOutput> ReceiveOutputAsync(TimeSpan? timeout = null) => _run.ReceiveAsync(timeout);

    /// <summary>True when the application sends nothing within <paramref name="timeout"/> (default 0.1 s).</summary>
    public Task<bool> ReceiveNothingAsync(TimeSpan? timeout = null) => _run.ReceiveNothingAsync(timeout);

    /// <summary>The client leaves with <paramref name="code"/>; waits for the application to finish.</summary>
    /// <exception cref="ApplicationTimeoutException">The application did not finish within <paramref name="timeout"/>.</exception>
    public async Task DisconnectAsync(int code = 1000, TimeSpan? timeout = null)
    {
        _run.EnsureStarted();
        _session.ClientGone(code);
        await _run.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Waits for the application to finish, surfacing its exception if it failed.</summary>
    /// <exception cref="ApplicationTimeoutException">The application did not finish within <paramref name="timeout"/>.</exception>
    public Task WaitAsync(TimeSpan? timeout = null) => _run.WaitAsync(timeout);

    /// <summary>Disconnects the client if it is still connected and lets the application finish
    /// (a few seconds at most); never throws, so a failing test keeps its own error.</summary>
    public ValueTask DisposeAsync() => _run.DisposeAsync(() => _session.ClientGone(1000));

    private void Post(WebSocketEvent e)
    {
        _run.EnsureStarted();
        if (_session.IsClientGone)
        {
            throw new InvalidOperationException("The client has disconnected; it can send nothing more.");
        }

        _run.ThrowIfFailed();
        _session.Post(e);
    }
}
