using Channels.Net.Layers.Configuration;

namespace Channels.Net.Consumers;

/// <summary>
/// A WebSocket consumer (Django's <c>AsyncWebsocketConsumer</c>): override <see cref="ConnectAsync"/>,
/// <see cref="ReceiveAsync"/> and <see cref="DisconnectAsync"/>, and declare handlers for the
/// channel-layer messages it gets (<c>[ChannelEvent("chat.message")]</c> or a public
/// <c>ChatMessage</c> method).
/// </summary>
/// <example>
/// <code>
/// public sealed class ChatConsumer : AsyncWebSocketConsumer
/// {
///     string room = "";
///     public override async Task ConnectAsync()
///     {
///         room = Scope.UrlRoute.Get&lt;string&gt;("room");
///         await ChannelLayer.GroupAddAsync(room, ChannelName);
///         await AcceptAsync();
///     }
///     public override Task ReceiveAsync(string? text, byte[]? bytes) =>
///         ChannelLayer.GroupSendAsync(room, new { type = "chat.message", message = text }).AsTask();
///     [ChannelEvent("chat.message")]
///     public Task ChatMessage(ChatMessage e) => SendAsync(e.Message);
///     public override Task DisconnectAsync(int code) => ChannelLayer.GroupDiscardAsync(room, ChannelName).AsTask();
/// }
/// public sealed record ChatMessage(string Message);
/// </code>
/// </example>
public abstract class AsyncWebSocketConsumer : AsyncConsumer
{
    /// <summary>Groups joined before <see cref="ConnectAsync"/> and left after <see cref="DisconnectAsync"/> (Django's <c>groups</c>).</summary>
    protected virtual IReadOnlyList<string> Groups => [];

    /// <summary>The client asks to connect: call <see cref="AcceptAsync"/>, or <see cref="CloseAsync"/>
    /// (or throw <see cref="DenyConnectionException"/>) to refuse with HTTP 403. Accepts by default.</summary>
    public virtual Task ConnectAsync() => AcceptAsync();

    /// <summary>A message from the client: <paramref name="text"/> for a text frame, <paramref name="bytes"/> for a binary one.</summary>
    public virtual Task ReceiveAsync(string? text, byte[]? bytes) => Task.CompletedTask;

    /// <summary>The connection is gone, with its close <paramref name="code"/>. Runs exactly once, however the connection ended.</summary>
    public virtual Task DisconnectAsync(int code) => Task.CompletedTask;

    /// <summary>Accepts the connection, optionally choosing a <paramref name="subprotocol"/> and adding response <paramref name="headers"/>.</summary>
    protected Task AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        WebSocketSession.AcceptAsync(subprotocol, headers, Aborted).AsTask();

    /// <summary>Sends a text message; with <paramref name="close"/>, closes the connection afterwards.</summary>
    protected Task SendAsync(string text, bool close = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var send = WebSocketSession.SendTextAsync(text, Aborted);
        return close || !send.IsCompletedSuccessfully ? SendThenMaybeClose(send, close) : Task.CompletedTask;
    }

    /// <summary>Sends a binary message; with <paramref name="close"/>, closes the connection afterwards.</summary>
    protected Task SendAsync(byte[] bytes, bool close = false)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return SendThenMaybeClose(WebSocketSession.SendBinaryAsync(bytes, Aborted), close);
    }

    /// <summary>Closes the connection with <paramref name="code"/> (1000 by default) and <paramref name="reason"/>;
    /// before <see cref="AcceptAsync"/>, refuses the handshake with HTTP 403.</summary>
    protected Task CloseAsync(int? code = null, string? reason = null) => WebSocketSession.CloseAsync(code, reason, Aborted).AsTask();

    private protected override async ValueTask HandleClientEventAsync(ConsumerEvent e)
    {
        var ws = e.WebSocket;
        if (ws.Kind == WebSocketEventKind.Connect)
        {
            await JoinGroupsAsync().ConfigureAwait(false);
            try
            {
                await ConnectAsync().ConfigureAwait(false);
            }
            catch (AcceptConnectionException)
            {
                await AcceptAsync().ConfigureAwait(false);
            }
            catch (DenyConnectionException)
            {
                await CloseAsync().ConfigureAwait(false);
            }
        }
        else
        {
            await ReceiveAsync(ws.Text, ws.Bytes).ConfigureAwait(false);
        }
    }

    private protected override async ValueTask OnEndAsync(int code)
    {
        if (HasChannelLayer)
        {
            foreach (var group in Groups)
            {
                await ChannelLayer.GroupDiscardAsync(group, ChannelName).ConfigureAwait(false);
            }
        }

        await DisconnectAsync(code).ConfigureAwait(false);
    }

    private async ValueTask JoinGroupsAsync()
    {
        var groups = Groups;
        if (groups.Count == 0)
        {
            return;
        }

        if (!HasChannelLayer)
        {
            throw new InvalidChannelLayerException(
                $"{GetType().Name} lists Groups, but no channel layer is configured under '{ChannelLayerAlias}' (Django: BACKEND is unconfigured or doesn't support groups).");
        }

        foreach (var group in groups)
        {
            await ChannelLayer.GroupAddAsync(group, ChannelName, Aborted).ConfigureAwait(false);
        }
    }

    private async Task SendThenMaybeClose(ValueTask send, bool close)
    {
        await send.ConfigureAwait(false);
        if (close)
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }
}
