using Channels.Net.Layers.Configuration;

namespace Channels.Net.Consumers;

/// <summary>
/// The synchronous WebSocket consumer (Django's <c>WebsocketConsumer</c>), in the tutorial's
/// style: plain methods, one at a time per connection, and a channel layer called synchronously.
/// </summary>
/// <example>
/// <code>
/// public sealed class ChatConsumer : WebSocketConsumer
/// {
///     public override void Connect() { ChannelLayer.GroupAdd("x1", ChannelName); Accept(); }
///     public override void Receive(string? text, byte[]? bytes) =>
///         ChannelLayer.GroupSend("x1", new { type = "xxx.ooo", message = text });
///     public void XxxOoo(ChannelMessage e) => Send((string)e["message"]!);
///     public override void Disconnect(int code) => ChannelLayer.GroupDiscard("x1", ChannelName);
/// }
/// </code>
/// </example>
public abstract class WebSocketConsumer : SyncConsumer
{
    /// <summary>Groups joined before <see cref="Connect"/> and left after <see cref="Disconnect"/> (Django's <c>groups</c>).</summary>
    protected virtual IReadOnlyList<string> Groups => [];

    /// <summary>The client asks to connect: call <see cref="Accept"/>, or <see cref="Close"/> (or throw
    /// <see cref="DenyConnectionException"/>) to refuse with HTTP 403. Accepts by default.</summary>
    public virtual void Connect() => Accept();

    /// <summary>A message from the client: <paramref name="text"/> for a text frame, <paramref name="bytes"/> for a binary one.</summary>
    public virtual void Receive(string? text, byte[]? bytes)
    {
    }

    /// <summary>The connection is gone, with its close <paramref name="code"/>. Runs exactly once, however the connection ended.</summary>
    public virtual void Disconnect(int code)
    {
    }

    /// <summary>Accepts the connection, optionally choosing a <paramref name="subprotocol"/> and adding response <paramref name="headers"/>.</summary>
    protected void Accept(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        SyncChannelLayer.Wait(WebSocketSession.AcceptAsync(subprotocol, headers, Aborted));

    /// <summary>Sends a text message; with <paramref name="close"/>, closes the connection afterwards.</summary>
    protected void Send(string text, bool close = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        SyncChannelLayer.Wait(WebSocketSession.SendTextAsync(text, Aborted));
        if (close)
        {
            Close();
        }
    }

    /// <summary>Sends a binary message; with <paramref name="close"/>, closes the connection afterwards.</summary>
    protected void Send(byte[] bytes, bool close = false)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        SyncChannelLayer.Wait(WebSocketSession.SendBinaryAsync(bytes, Aborted));
        if (close)
        {
            Close();
        }
    }

    /// <summary>Closes the connection with <paramref name="code"/> (1000 by default) and <paramref name="reason"/>;
    /// before <see cref="Accept"/>, refuses the handshake with HTTP 403.</summary>
    protected void Close(int? code = null, string? reason = null) => SyncChannelLayer.Wait(WebSocketSession.CloseAsync(code, reason, Aborted));

    private protected override ValueTask HandleClientEventAsync(ConsumerEvent e)
    {
        var ws = e.WebSocket;
        if (ws.Kind == WebSocketEventKind.Connect)
        {
            JoinGroups();
            try
            {
                Connect();
            }
            catch (AcceptConnectionException)
            {
                Accept();
            }
            catch (DenyConnectionException)
            {
                Close();
            }
        }
        else
        {
            Receive(ws.Text, ws.Bytes);
        }

        return ValueTask.CompletedTask;
    }

    private protected override ValueTask OnEndAsync(int code)
    {
        if (HasChannelLayer)
        {
            foreach (var group in Groups)
            {
                ChannelLayer.GroupDiscard(group, ChannelName);
            }
        }

        Disconnect(code);
        return ValueTask.CompletedTask;
    }

    private void JoinGroups()
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
            ChannelLayer.GroupAdd(group, ChannelName);
        }
    }
}
