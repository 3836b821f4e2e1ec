namespace Channels.Net.Consumers;

/// <summary>
/// An HTTP consumer (Django's <c>AsyncHttpConsumer</c>): <see cref="HandleAsync"/> gets the whole
/// request body and answers with <see cref="SendResponseAsync"/>, or starts a response with
/// <see cref="SendHeadersAsync"/> and streams it with <see cref="SendBodyAsync"/> — for example
/// server-sent events fed by channel-layer messages, which the consumer keeps receiving until the
/// last body part (<c>moreBody: false</c>) or until the client leaves.
/// </summary>
public abstract class AsyncHttpConsumer : AsyncConsumer
{
    /// <summary>Handles the request; <paramref name="body"/> is the whole request body.</summary>
    public abstract Task HandleAsync(byte[] body);

    /// <summary>The request is over (the response completed, or the client left). Runs exactly once.</summary>
    public virtual Task DisconnectAsync() => Task.CompletedTask;

    /// <summary>Sends a whole response.</summary>
    protected async Task SendResponseAsync(int status, ReadOnlyMemory<byte> body, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        await SendHeadersAsync(status, headers).ConfigureAwait(false);
        await SendBodyAsync(body).ConfigureAwait(false);
    }

    /// <summary>Starts the response with <paramref name="status"/> and <paramref name="headers"/>.</summary>
    protected Task SendHeadersAsync(int status = 200, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        HttpSession.StartResponseAsync(status, headers, Aborted).AsTask();

    /// <summary>Sends part of the body; with <paramref name="moreBody"/> false the response is complete and the consumer ends.</summary>
    protected async Task SendBodyAsync(ReadOnlyMemory<byte> body, bool moreBody = false)
    {
        await HttpSession.SendBodyAsync(body, moreBody, Aborted).ConfigureAwait(false);
        if (!moreBody)
        {
            OnClientGone(1000);
        }
    }

    private protected override ValueTask HandleClientEventAsync(ConsumerEvent e) =>
        e.Body is not null ? new ValueTask(HandleAsync(e.Body)) : ValueTask.CompletedTask;

    private protected override ValueTask OnEndAsync(int code) => new(DisconnectAsync());
}
