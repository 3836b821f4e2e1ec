using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>How a consumer talks to its session, per protocol. The generic behaviour here turns
/// client events into ASGI-style messages (<c>websocket.connect</c>, <c>websocket.receive</c>,
/// <c>http.request</c>, …) dispatched by type; the protocol consumers override it with typed hooks.</summary>
public abstract partial class ConsumerBase
{
    /// <summary>The largest request body an HTTP consumer reads into memory.</summary>
    internal const int MaxRequestBodyBytes = 1 << 20;

    private protected IWebSocketSession WebSocketSession =>
        Session as IWebSocketSession ?? throw new InvalidOperationException($"{GetType().Name} is not serving a WebSocket (scope type '{Scope.Type}').");

    private protected IHttpSession HttpSession =>
        Session as IHttpSession ?? throw new InvalidOperationException($"{GetType().Name} is not serving an HTTP request (scope type '{Scope.Type}').");

    /// <summary>Reads the client's events into the inbox until the client is gone or <paramref name="cancellationToken"/>
    /// (the consumer's own) is cancelled; null for a WebSocket, which the inbox reads itself.</summary>
    private Task? ReadClientAsync(ConsumerInbox inbox, CancellationToken cancellationToken) => Session switch
    {
        IWebSocketSession => null,
        IHttpSession http => ReadHttpAsync(http, inbox, cancellationToken),
        IWorkerSession worker => ReadWorkerAsync(worker, inbox, cancellationToken),
        _ => throw new InvalidOperationException($"{GetType().Name} cannot serve a session of type {Session.GetType()}."),
    };

    /// <summary>Handles one client event in the loop: by default as an ASGI-style message dispatched by type.</summary>
    private protected virtual ValueTask HandleClientEventAsync(ConsumerEvent e) => DispatchMessageAsync(ToAsgiMessage(e));

    /// <summary>Runs once when the consumer ends: by default dispatches <c>websocket.disconnect</c> /
    /// <c>http.disconnect</c> if the consumer handles it.</summary>
    private protected virtual ValueTask OnEndAsync(int code)
    {
        var type = Session switch
        {
            IWebSocketSession => "websocket.disconnect",
            IHttpSession => "http.disconnect",
            _ => null,
        };
        if (type is null || !HasHandler(type))
        {
            return ValueTask.CompletedTask;
        }

        var message = type == "websocket.disconnect"
            ? ChannelMessage.Create(type, [new("code", code)])
            : ChannelMessage.Create(type);
        return DispatchMessageAsync(message);
    }

    /// <summary>Tells the client the consumer failed: close 1011 (or HTTP 500 before a response / handshake).</summary>
    private protected virtual async ValueTask FailConnectionAsync()
    {
        switch (Session)
        {
            case IWebSocketSession webSocket when webSocket.IsAccepted:
                await webSocket.CloseAsync(1011, "Internal server error").ConfigureAwait(false);
                break;
            case IWebSocketSession webSocket:
                await webSocket.RejectAsync(500, "The consumer failed before accepting the connection.").ConfigureAwait(false);
                break;
            case IHttpSession http when !http.HasStarted:
                await http.StartResponseAsync(500, [new("content-type", "text/plain; charset=utf-8")]).ConfigureAwait(false);
                await http.SendBodyAsync("Internal server error"u8.ToArray()).ConfigureAwait(false);
                break;
            case IHttpSession http when !ClientGone:
                // The response started and is not complete: abort it, so the client cannot take a
                // truncated body for a whole one.
                await http.RejectAsync(500, "The consumer failed after starting the response.").ConfigureAwait(false);
                break;
        }
    }

    /// <summary>True when the consumer has a handler for <paramref name="type"/>.</summary>
    private protected bool HasHandler(string type) => _handlers.Find(type) is not null;

    /// <summary>
    /// Sends a raw ASGI-style event to the client (Django's <c>base_send</c>): <c>websocket.accept</c>
    /// (<c>subprotocol</c>, <c>headers</c>), <c>websocket.send</c> (<c>text</c> or <c>bytes</c>),
    /// <c>websocket.close</c> (<c>code</c>, <c>reason</c>), <c>http.response.start</c>
    /// (<c>status</c>, <c>headers</c>) and <c>http.response.body</c> (<c>body</c>, <c>more_body</c>).
    /// </summary>
    private protected async ValueTask BaseSendCoreAsync(ChannelMessage message)
    {
        switch (message.Type)
        {
            case "websocket.accept":
                await WebSocketSession.AcceptAsync(message.GetString("subprotocol"), ReadHeaders(message), Aborted).ConfigureAwait(false);
                break;
            case "websocket.send":
                if (message.GetString("text") is { } text)
                {
                    await WebSocketSession.SendTextAsync(text, Aborted).ConfigureAwait(false);
                }
                else if (message.GetBytes("bytes") is { } bytes)
                {
                    await WebSocketSession.SendBinaryAsync(bytes, Aborted).ConfigureAwait(false);
                }
                else
                {
                    throw new InvalidChannelMessageException("A 'websocket.send' event needs 'text' or 'bytes'.");
                }

                break;
            case "websocket.close":
                await WebSocketSession.CloseAsync((int?)message.GetInt64("code"), message.GetString("reason"), Aborted).ConfigureAwait(false);
                break;
            case "http.response.start":
                await HttpSession.StartResponseAsync((int)(message.GetInt64("status") ?? 200), ReadHeaders(message), Aborted).ConfigureAwait(false);
                break;
            case "http.response.body":
                var more = message.TryGetValue("more_body", out var m) && m is true;
                await HttpSession.SendBodyAsync(message.GetBytes("body") ?? ReadOnlyMemory<byte>.Empty, more, Aborted).ConfigureAwait(false);
                if (!more)
                {
                    OnClientGone(1000);
                }

                break;
            default:
                throw new InvalidChannelMessageException(
                    $"'{message.Type}' is not an event a consumer can send to its client; expected websocket.accept, websocket.send, websocket.close, http.response.start or http.response.body.");
        }
    }

    private async Task ReadHttpAsync(IHttpSession session, ConsumerInbox inbox, CancellationToken cancellationToken)
    {
        // The client leaving is seen here, whether it leaves while sending the body or while the
        // response streams: the loop must hear of it, or an idle streaming consumer waits forever.
        // cancellationToken is the consumer's own, which the session's Aborted cancels too.
        try
        {
            using var body = new MemoryStream();
            while (true)
            {
                var chunk = await session.ReceiveBodyAsync(cancellationToken).ConfigureAwait(false);
                if (body.Length + chunk.Body.Length > MaxRequestBodyBytes)
                {
                    throw new InvalidOperationException($"The request body is larger than {MaxRequestBodyBytes} bytes.");
                }

                body.Write(chunk.Body.Span);
                if (!chunk.MoreBody)
                {
                    break;
                }
            }

            inbox.TryPostClient(ConsumerEvent.FromRequestBody(body.ToArray()));

            // The request is read; the client can still go away while the response streams.
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (session.Aborted.IsCancellationRequested)
        {
            OnClientGone(1000);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A body too large, a broken session: end the consumer with a 500 instead of leaving it waiting.
            inbox.Complete(ex);
        }
    }

    private async Task ReadWorkerAsync(IWorkerSession session, ConsumerInbox inbox, CancellationToken cancellationToken)
    {
        // The worker stopping (session.Aborted, which cancels the consumer's own cancellationToken too) ends
        // the consumer, as a client leaving does.
        try
        {
            while (true)
            {
                var message = await session.ReceiveAsync(cancellationToken).ConfigureAwait(false);

                // One message at a time: the next stays on the channel until this one was handled, so a
                // consumer that ends (a handler failed, the worker stops) drops no message queued behind it.
                var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!inbox.TryPostClient(ConsumerEvent.FromWorker(message, handled)))
                {
                    return; // The loop has ended.
                }

                await handled.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception) when (session.Aborted.IsCancellationRequested)
        {
            OnClientGone(1000);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            inbox.Complete(new InvalidOperationException($"Receiving on worker channel '{Scope.Channel}' failed: {ex.Message}", ex));
        }
    }

    private static ChannelMessage ToAsgiMessage(ConsumerEvent e)
    {
        if (e.Body is not null)
        {
            return ChannelMessage.Create("http.request", [new("body", e.Body), new("more_body", false)]);
        }

        return e.WebSocket.Kind switch
        {
            WebSocketEventKind.Connect => ChannelMessage.Create("websocket.connect"),
            WebSocketEventKind.Receive when e.WebSocket.Text is not null => ChannelMessage.Create("websocket.receive", [new("text", e.WebSocket.Text)]),
            WebSocketEventKind.Receive => ChannelMessage.Create("websocket.receive", [new("bytes", e.WebSocket.Bytes)]),
            _ => ChannelMessage.Create("websocket.disconnect", [new("code", e.WebSocket.Code)]),
        };
    }

    private static List<KeyValuePair<string, string>>? ReadHeaders(ChannelMessage message)
    {
        if (!message.TryGetValue("headers", out var value) || value is null)
        {
            return null;
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var item in value as MessageList ?? throw new InvalidChannelMessageException("'headers' must be a list of [name, value] pairs."))
        {
            if (item is not MessageList { Count: 2 } pair)
            {
                throw new InvalidChannelMessageException("'headers' must be a list of [name, value] pairs.");
            }

            headers.Add(new(AsText(pair[0]), AsText(pair[1])));
        }

        return headers;
    }

    private static string AsText(object? value) => value switch
    {
        string s => s,
        ReadOnlyMemory<byte> bytes => System.Text.Encoding.Latin1.GetString(bytes.Span),
        _ => throw new InvalidChannelMessageException("A header name or value must be a string or bytes."),
    };
}
