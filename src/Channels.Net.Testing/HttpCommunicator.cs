namespace Channels.Net.Testing;

/// <summary>
/// Drives an HTTP application in process, without sockets (Django's <c>HttpCommunicator</c>): send
/// the request, then take the whole response with <see cref="GetResponseAsync"/>, or — for a
/// consumer that streams, such as server-sent events — its start and then its body parts one by
/// one with <see cref="ReceiveResponseStartAsync"/> and <see cref="ReceiveBodyAsync"/>.
/// </summary>
/// <example>
/// <code>
/// await using var communicator = new HttpCommunicator(Consumer&lt;EchoConsumer&gt;(), "POST", "/echo/", "hi"u8.ToArray());
/// var response = await communicator.GetResponseAsync();
/// Assert.Equal(200, response.Status);
/// Assert.Equal("hi", response.Text);
/// </code>
/// </example>
public sealed class HttpCommunicator : IAsyncDisposable
{
    private const string NotSentMessage = "The request has not been sent: call GetResponseAsync, SendRequestAsync or SendRequestBodyAsync first.";

    private readonly IChannelApplication _application;
    private readonly ApplicationRun<HttpOutput> _run = new(NotSentMessage);
    private readonly CommunicatorHttpSession _session;
    private readonly byte[] _body;
    private readonly Lock _gate = new();
    private ChannelScope _scope;
    private RequestState _request;

    /// <summary>Creates a communicator for a <paramref name="method"/> request to <paramref name="path"/>.</summary>
    /// <param name="application">The application under test: a consumer, a router, a middleware.</param>
    /// <param name="method">The HTTP method (upper-cased), e.g. <c>GET</c>.</param>
    /// <param name="path">The request path, which may carry a query string, e.g. <c>/events/?since=3</c>.</param>
    /// <param name="body">The whole request body, sent as one piece by <see cref="SendRequestAsync"/> or
    /// <see cref="GetResponseAsync"/>; to send it in pieces, pass none and use <see cref="SendRequestBodyAsync"/>.</param>
    /// <param name="headers">Request headers; names are lower-cased.</param>
    /// <param name="services">The request's services; by default <see cref="CommunicatorServices.Default"/>, with an in-memory <c>default</c> layer.</param>
    public HttpCommunicator(
        IChannelApplication application,
        string method,
        string path,
        byte[]? body = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentNullException.ThrowIfNull(path);
        _application = application;
        _body = body ?? [];
        _session = new CommunicatorHttpSession(_run.Output);
        _scope = CommunicatorScope.ForPath(ChannelScopeType.Http, "http", method.ToUpperInvariant(), path, headers, services);
    }

    private enum RequestState
    {
        NotSent,
        Streaming,
        Sent,
    }

    /// <summary>The scope the application gets; change it (<c>with { User = ... }</c>) before the request is sent.</summary>
    /// <exception cref="InvalidOperationException">Set after the request was sent, when the application already has its scope.</exception>
    public ChannelScope Scope
    {
        get => _scope;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (_run.Started)
            {
                throw new InvalidOperationException("The scope cannot change once the request was sent: the application already has it.");
            }

            _scope = value;
        }
    }

    /// <summary>
    /// Sends the request if it was not sent yet, then receives the whole response: its start and
    /// every body part up to the last (Django's <c>get_response</c>). <paramref name="timeout"/>
    /// applies to each part, as in Django.
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">A part did not come within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The response was aborted, or the application ended without completing it,
    /// or the request body is being streamed and its last part was not sent.</exception>
    public async Task<HttpCommunicatorResponse> GetResponseAsync(TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            if (_request == RequestState.Streaming)
            {
                throw new InvalidOperationException("The request body is not complete: send its last part (moreBody: false) with SendRequestBodyAsync first.");
            }

            if (_request == RequestState.NotSent)
            {
                SendRequestLocked();
            }
        }

        var start = await ReceiveResponseStartAsync(timeout).ConfigureAwait(false);
        using var body = new MemoryStream();
        while (true)
        {
            var part = await ReceiveBodyAsync(timeout).ConfigureAwait(false);
            body.Write(part.Body);
            if (!part.MoreBody)
            {
                return new HttpCommunicatorResponse(start.Status, start.Headers ?? [], body.ToArray());
            }
        }
    }

    /// <summary>Starts the application and sends it the request with the constructor's body, whole.</summary>
    /// <exception cref="InvalidOperationException">The request was already sent (or is being streamed).</exception>
    public Task SendRequestAsync()
    {
        lock (_gate)
        {
            if (_request != RequestState.NotSent)
            {
                throw new InvalidOperationException("The request was already sent.");
            }

            SendRequestLocked();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends the request body in pieces (ASGI <c>http.request</c> with <c>more_body</c>): the first call
    /// starts the application, and the piece with <paramref name="moreBody"/> false is the last.
    /// </summary>
    /// <exception cref="InvalidOperationException">The constructor was given a body (it is sent whole), the last
    /// piece was already sent, or the client has disconnected.</exception>
    public Task SendRequestBodyAsync(ReadOnlyMemory<byte> body, bool moreBody = false)
    {
        lock (_gate)
        {
            if (_body.Length > 0 && _request == RequestState.NotSent)
            {
                throw new InvalidOperationException(
                    "This communicator was given the whole body in its constructor; send it with SendRequestAsync or GetResponseAsync. To send a body in pieces, give the constructor none.");
            }

            if (_request == RequestState.Sent)
            {
                throw new InvalidOperationException("The request body is complete: its last part (moreBody: false) was already sent.");
            }

            if (_session.IsClientGone)
            {
                throw new InvalidOperationException("The client has disconnected; it can send nothing more.");
            }

            if (_request == RequestState.NotSent)
            {
                _run.Start(_application, _scope, _session);
            }

            _run.ThrowIfFailed();
            _session.PostBody(body, moreBody);
            _request = moreBody ? RequestState.Streaming : RequestState.Sent;
        }

        return Task.CompletedTask;
    }

    /// <summary>The next thing the application did: the response start, a body part, or an abort.</summary>
    /// <exception cref="ApplicationTimeoutException">Nothing came within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The request was not sent, or the application ended without sending more.</exception>
    public Task<HttpOutput> ReceiveOutputAsync(TimeSpan? timeout = null) => _run.ReceiveAsync(timeout);

    /// <summary>The response start (status and headers), which must be the next thing the application sent.</summary>
    /// <exception cref="ApplicationTimeoutException">It did not come within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The application sent something else next.</exception>
    public async Task<HttpOutput> ReceiveResponseStartAsync(TimeSpan? timeout = null)
    {
        var output = await ReceiveOutputAsync(timeout).ConfigureAwait(false);
        return output.Kind switch
        {
            HttpOutputKind.Start => output,
            HttpOutputKind.Body => throw new InvalidOperationException("Expected the response start, but the application sent a body part (was the start already received?)."),
            _ => throw Aborted(output),
        };
    }

    /// <summary>The next body part; the last has <see cref="HttpOutput.MoreBody"/> false.</summary>
    /// <exception cref="ApplicationTimeoutException">It did not come within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The application sent something else next (the start, which
    /// <see cref="ReceiveResponseStartAsync"/> takes, or an abort).</exception>
    public async Task<HttpOutput> ReceiveBodyAsync(TimeSpan? timeout = null)
    {
        var output = await ReceiveOutputAsync(timeout).ConfigureAwait(false);
        return output.Kind switch
        {
            HttpOutputKind.Body => output,
            HttpOutputKind.Start => throw new InvalidOperationException("Expected a body part, but the application started the response: receive it with ReceiveResponseStartAsync first."),
            _ => throw Aborted(output),
        };
    }

    /// <summary>True when the application sends nothing within <paramref name="timeout"/> (default 0.1 s).</summary>
    public Task<bool> ReceiveNothingAsync(TimeSpan? timeout = null) => _run.ReceiveNothingAsync(timeout);

    /// <summary>
    /// The client leaves (ASGI <c>http.disconnect</c>): the session's <see cref="IChannelSession.Aborted"/> is
    /// cancelled and nothing more the application sends is recorded; waits for the application to finish.
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">The application did not finish within <paramref name="timeout"/>.</exception>
    public async Task DisconnectAsync(TimeSpan? timeout = null)
    {
        _run.EnsureStarted();
        _session.ClientGone();
        await _run.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Waits for the application to finish, surfacing its exception if it failed.</summary>
    /// <exception cref="ApplicationTimeoutException">The application did not finish within <paramref name="timeout"/>.</exception>
    public Task WaitAsync(TimeSpan? timeout = null) => _run.WaitAsync(timeout);

    /// <summary>Disconnects the client if the application is still running and lets it finish
    /// (a few seconds at most); never throws, so a failing test keeps its own error.</summary>
    public ValueTask DisposeAsync() => _run.DisposeAsync(_session.ClientGone);

    private static InvalidOperationException Aborted(HttpOutput output) =>
        new($"The application aborted the response after starting it{(output.Reason is null ? "" : $" ({output.Reason})")}.");

    private void SendRequestLocked()
    {
        _run.Start(_application, _scope, _session);
        _session.PostBody(_body, moreBody: false);
        _request = RequestState.Sent;
    }
}
