using System.Threading.Channels;

namespace Channels.Net.Testing;

/// <summary>An in-process <see cref="IHttpSession"/>: the request body arrives in the chunks the test
/// sends, what the application answers is recorded as <see cref="HttpOutput"/>s, and
/// <see cref="Aborted"/> is cancelled when the test disconnects.</summary>
internal sealed class CommunicatorHttpSession(ChannelWriter<HttpOutput> output) : IHttpSession
{
    private readonly Channel<HttpBodyChunk> _body = Channel.CreateUnbounded<HttpBodyChunk>();
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _gate = new();
    private bool _started;
    private bool _complete;
    private bool _bodyDone;

    public CancellationToken Aborted => _aborted.Token;

    /// <summary>True once the client left (<see cref="ClientGone"/>).</summary>
    public bool IsClientGone => _aborted.IsCancellationRequested;

    public bool HasStarted
    {
        get
        {
            lock (_gate)
            {
                return _started;
            }
        }
    }

    /// <summary>The client sends a piece of the request body; the last has <paramref name="moreBody"/> false.</summary>
    public void PostBody(ReadOnlyMemory<byte> body, bool moreBody)
    {
        _body.Writer.TryWrite(new HttpBodyChunk(body.ToArray(), moreBody));
        if (!moreBody)
        {
            _body.Writer.TryComplete();
        }
    }

    /// <summary>The client leaves: <see cref="Aborted"/> is cancelled and the session stops recording sends.</summary>
    public void ClientGone() => _aborted.Cancel();

    public async ValueTask<HttpBodyChunk> ReceiveBodyAsync(CancellationToken cancellationToken = default)
    {
        if (_bodyDone)
        {
            return new HttpBodyChunk(ReadOnlyMemory<byte>.Empty, false);
        }

        using var gone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _aborted.Token);
        var chunk = await _body.Reader.ReadAsync(gone.Token).ConfigureAwait(false);
        if (!chunk.MoreBody)
        {
            _bodyDone = true;
        }

        return chunk;
    }

    public ValueTask StartResponseAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_started)
            {
                throw new InvalidOperationException("The response has already started.");
            }

            _started = true;
            if (IsClientGone)
            {
                return ValueTask.CompletedTask; // Nobody is listening any more, as on a real server.
            }

            output.TryWrite(new HttpOutput(HttpOutputKind.Start, statusCode, [.. headers ?? []]));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SendBodyAsync(ReadOnlyMemory<byte> body, bool moreBody = false, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_started)
            {
                throw new InvalidOperationException("Start the response (status and headers) before sending its body.");
            }

            if (_complete)
            {
                throw new InvalidOperationException("The response is already complete (its last body part had moreBody false); nothing more can be sent.");
            }

            _complete = !moreBody;
            if (IsClientGone)
            {
                return ValueTask.CompletedTask;
            }

            output.TryWrite(new HttpOutput(HttpOutputKind.Body, Body: body.ToArray(), MoreBody: moreBody));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RejectAsync(int statusCode, string reason)
    {
        lock (_gate)
        {
            if (_complete || IsClientGone)
            {
                return ValueTask.CompletedTask;
            }

            _complete = true;
            if (_started)
            {
                // Too late for a status: a server resets the connection.
                output.TryWrite(new HttpOutput(HttpOutputKind.Abort, Reason: reason));
                return ValueTask.CompletedTask;
            }

            _started = true;
            output.TryWrite(new HttpOutput(HttpOutputKind.Start, statusCode, [], Reason: reason));
            output.TryWrite(new HttpOutput(HttpOutputKind.Body, Body: []));
        }

        return ValueTask.CompletedTask;
    }
}
