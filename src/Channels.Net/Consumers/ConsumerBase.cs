using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Channels.Net.Consumers;

/// <summary>
/// What every consumer shares: its scope, its channel on the layer, and one ordered loop through
/// which client events and channel-layer messages pass, one at a time. Derive from
/// <see cref="AsyncConsumer"/>, <see cref="SyncConsumer"/> or one of their protocol subclasses.
/// </summary>
/// <remarks>
/// <para>However a consumer ends — the client leaves, it closes the connection, a handler throws
/// or raises <see cref="StopConsumerException"/>, the server stops — its channel leaves every group it
/// joined and its disconnect hook runs exactly once.</para>
/// <para>When the client leaves, <see cref="Aborted"/> is cancelled at once and events still
/// queued are dropped, so disconnect runs as soon as the running handler returns: a slow handler
/// that observes <see cref="Aborted"/> does not hold the close path.</para>
/// </remarks>
public abstract partial class ConsumerBase
{
    /// <summary>How long an ending WebSocket consumer waits for its session's disconnect event.</summary>
    private static readonly TimeSpan ReaderGrace = TimeSpan.FromSeconds(2);

    private readonly EventHandlerTable _handlers;
    private ConsumerInbox? _inbox;
    private TaskCompletionSource? _ended;
    private Task? _reader;

    // The consumer's own token source, linked to the session's; none when the session lets the consumer
    // cancel the session's token itself (IAbortableSession, as ASP.NET Core's WebSocket session does).
    private CancellationTokenSource? _abort;
    private ConsumerChannelLayer? _layer;
    private ILogger? _logger;
    private int _endCode = 1000;
    private bool _endCodeFinal;
    private volatile bool _clientGone;
    private bool _endRan;

    private protected ConsumerBase()
    {
        _handlers = EventHandlerTable.For(GetType());
    }

    /// <summary>The connection's scope (Django's <c>self.scope</c>): path, headers, user, <c>UrlRoute</c>, services.</summary>
    public ChannelScope Scope { get; private set; } = null!;

    /// <summary>The channel-layer alias this consumer uses (Django's <c>channel_layer_alias</c>); <c>default</c> unless overridden.</summary>
    protected virtual string ChannelLayerAlias => ChannelLayersOptions.DefaultAlias;

    /// <summary>True when a channel layer is configured for <see cref="ChannelLayerAlias"/>.</summary>
    public bool HasChannelLayer => _layer is not null;

    /// <summary>This consumer's own channel on the layer (Django's <c>self.channel_name</c>).</summary>
    /// <exception cref="InvalidChannelLayerException">No channel layer is configured.</exception>
    public string ChannelName => _layer?.ChannelName ?? throw NoLayer();

    /// <summary>Cancelled when the client is gone or the server stops; pass it to slow work.</summary>
    protected CancellationToken Aborted => _abort?.Token ?? (Session is { } session ? session.Aborted : CancellationToken.None);

    /// <summary>A logger named after the consumer's type (made the first time it is used).</summary>
    protected ILogger Logger => _logger ?? CreateLogger();

    /// <summary><see cref="Aborted"/>, for the inbox's layer receive.</summary>
    internal CancellationToken AbortedToken => Aborted;

    /// <summary>True once <see cref="Aborted"/> is cancelled (or the consumer has ended).</summary>
    internal bool IsAbortRequested
    {
        get
        {
            try
            {
                return Aborted.IsCancellationRequested;
            }
            catch (ObjectDisposedException)
            {
                return true;
            }
        }
    }

    /// <summary>The server side of the connection.</summary>
    private protected IChannelSession Session { get; private set; } = null!;

    private protected IChannelLayer AsyncLayer => (IChannelLayer?)_layer ?? throw NoLayer();

    private protected bool ClientGone => _clientGone;

    /// <summary>Serves one connection from start to end: the task completes when the consumer has ended.</summary>
    internal Task RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        if (Session is not null)
        {
            throw new InvalidOperationException($"A {GetType().Name} serves one connection; make a new instance per connection.");
        }

        Scope = scope;
        Session = session;

        // The one token source of the consumer (Aborted): cancelled when the session is aborted or the
        // consumer ends. The WebSocket reader is not tied to it: the session reports a vanished client as a
        // disconnect event carrying the real close code, which the reader must still see.
        if (session is not IAbortableSession)
        {
            _abort = CancellationTokenSource.CreateLinkedTokenSource(session.Aborted);
        }

        _ended = new TaskCompletionSource();
        _ = StartAsync();
        return _ended.Task;
    }

    /// <summary>
    /// The consumer's one ordered loop: handles the events that are ready, one at a time, and returns when there
    /// are none, or when a handler did not complete at once; the inbox starts it again (on the thread pool) when
    /// the next event arrives or the handler completes. So an idle consumer keeps no frame of its own, and a busy
    /// one allocates nothing per event. When the consumer is over, ends it.
    /// </summary>
    internal void Process()
    {
        try
        {
            if (_inbox!.TakeFinishedHandler(out var finished, out var done) && !Finish(new ValueTask(finished), done))
            {
                return;
            }

            while (!_clientGone)
            {
                var next = _inbox.Take(out var e);
                if (next == ConsumerInbox.Next.Idle)
                {
                    return;
                }

                if (next == ConsumerInbox.Next.End)
                {
                    break;
                }

                ValueTask handling;
                try
                {
                    handling = e.Message is { } message ? DispatchMessageAsync(message) : HandleClientEventAsync(e);
                }
                catch (Exception ex)
                {
                    handling = ValueTask.FromException(ex);
                }

                if (!handling.IsCompleted)
                {
                    _inbox.AwaitHandler(handling.AsTask(), e);
                    return;
                }

                if (!Finish(handling, e))
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            // The inbox failed (its layer receive did): end the consumer.
            _ = EndAfterErrorAsync(ex);
            return;
        }

        _ = EndAsync();
    }

    private async Task StartAsync()
    {
        try
        {
            await AttachLayerAsync().ConfigureAwait(false);
            _inbox = new ConsumerInbox(this, Session as IWebSocketSession, _layer?.Inner);
            _reader = ReadClientAsync(_inbox, Aborted);
            _inbox.Start();
        }
        catch (Exception ex)
        {
            await EndAfterErrorAsync(ex).ConfigureAwait(false);
            return;
        }

        Process();
    }

    /// <summary>Finishes a handler that completed; false when the consumer ends (it then ends it).</summary>
    private bool Finish(ValueTask handling, ConsumerEvent e)
    {
        try
        {
            handling.GetAwaiter().GetResult();
        }
        catch (StopConsumerException)
        {
            LogStopped(Logger, GetType().Name, e.Describe());
            _ = StopThenEndAsync();
            return false;
        }
        catch (OperationCanceledException) when (Aborted.IsCancellationRequested)
        {
            _ = EndAsync(); // The client left while the handler ran; disconnect runs next.
            return false;
        }
        catch (Exception ex)
        {
            LogHandlerFailed(Logger, ex, GetType().Name, e.Describe());
            _ = FailThenEndAsync();
            return false;
        }

        if (e.Message is null)
        {
            _inbox!.OnClientEventHandled();
        }

        e.Handled?.TrySetResult();
        return true;
    }

    /// <summary>A handler asked to stop: close normally, then end.</summary>
    private async Task StopThenEndAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await EndAfterErrorAsync(ex).ConfigureAwait(false);
            return;
        }

        await EndAsync().ConfigureAwait(false);
    }

    /// <summary>A handler failed (already logged): close 1011 / answer 500, then end.</summary>
    private async Task FailThenEndAsync()
    {
        await FailAsync().ConfigureAwait(false);
        await EndAsync().ConfigureAwait(false);
    }

    /// <summary>The consumer itself failed (starting, stopping, or its layer receive): logged and closed 1011 /
    /// answered 500, unless it is the cancellation of a consumer whose client left; then ended.</summary>
    private async Task EndAfterErrorAsync(Exception error)
    {
        if (error is not OperationCanceledException || !Aborted.IsCancellationRequested)
        {
            LogConsumerFailed(Logger, error, GetType().Name);
            await FailAsync().ConfigureAwait(false);
        }

        await EndAsync().ConfigureAwait(false);
    }

    /// <summary>Ends the consumer, once: disconnect runs, its groups are left, and <see cref="RunAsync"/> completes.</summary>
    private async Task EndAsync()
    {
        try
        {
            if (_abort is not null)
            {
                await _abort.CancelAsync().ConfigureAwait(false);
            }
            else
            {
                CancelAborted();
            }

            if (_inbox is not null)
            {
                _inbox.Complete();
                if (_inbox.WhenReaderEnds() is { IsCompleted: false } readerEnds)
                {
                    // A closed WebSocket reports its disconnect (with its code) promptly; wait a little for it.
                    await Task.WhenAny(readerEnds, Task.Delay(ReaderGrace)).ConfigureAwait(false);
                }

                _inbox.Detach();
            }

            await ObserveAsync(_reader).ConfigureAwait(false);
            await EndOnceAsync(_endCode).ConfigureAwait(false);
            if (_layer is not null)
            {
                try
                {
                    await _layer.LeaveAllGroupsAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    LogLeaveGroupsFailed(Logger, ex, GetType().Name);
                }
            }
        }
        finally
        {
            _abort?.Dispose();
            _ended!.TrySetResult();
        }
    }

    /// <summary>Calls a handler with the message and <see cref="Aborted"/>.</summary>
    private ValueTask InvokeHandlerAsync(EventHandler handler, ChannelMessage message) =>
        handler.Invoke(this, message, Aborted);

    /// <summary>The client is gone (or the connection ended): stop taking events, run disconnect with <paramref name="code"/>.</summary>
    private protected void OnClientGone(int code)
    {
        if (!_endCodeFinal)
        {
            _endCode = code;
        }

        _clientGone = true;
        CancelAborted();
        _inbox?.Complete();
    }

    /// <summary>Cancels <see cref="Aborted"/>.</summary>
    private void CancelAborted()
    {
        try
        {
            if (_abort is not null)
            {
                _abort.Cancel();
            }
            else
            {
                (Session as IAbortableSession)?.AbortApplication();
            }
        }
        catch (ObjectDisposedException)
        {
            // The consumer has ended: a late disconnect from its reader changes nothing.
        }
    }

    /// <summary>The inbox's client reader saw the disconnect.</summary>
    internal void OnClientGoneFromReader(int code) => OnClientGone(code);

    /// <summary>The inbox's client reader failed: a session that cannot be read is a connection that is gone
    /// (1006), rather than one left waiting for events that will never come.</summary>
    internal void OnReaderFailed(Exception exception)
    {
        if (exception is not OperationCanceledException)
        {
            LogBackgroundFailed(Logger, exception, GetType().Name);
        }

        OnClientGone(1006);
    }

    /// <summary>Dispatches a channel-layer message to the consumer's handler for its <c>type</c>.</summary>
    /// <exception cref="InvalidOperationException">The consumer has no handler for the type.</exception>
    private protected ValueTask DispatchMessageAsync(ChannelMessage message)
    {
        var handler = _handlers.Find(message.Type)
            ?? throw new InvalidOperationException(
                $"{GetType().Name} has no handler for message type '{message.Type}'. Add a method marked [ChannelEvent(\"{message.Type}\")] " +
                $"or a public method named {string.Join(" or ", EventHandlerTable.ConventionNames(message.Type).Take(2).DefaultIfEmpty("(no valid name: the type is malformed)"))}.");
        return InvokeHandlerAsync(handler, message);
    }

    /// <summary>Checks the consumer type's handlers now (hosting calls it at start-up).</summary>
    internal static void ValidateHandlers(Type consumerType) => EventHandlerTable.For(consumerType);

    private ILogger CreateLogger()
    {
        if (Scope is null)
        {
            return NullLogger.Instance; // Not serving a connection yet.
        }

        return _logger = Scope.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger(GetType()) ?? NullLogger.Instance;
    }

    private protected Exception NoLayer() => new InvalidChannelLayerException(
        $"{GetType().Name} has no channel layer: none is configured under the alias '{ChannelLayerAlias}'. " +
        $"Configure ChannelLayers:{ChannelLayerAlias}:Backend (for example InMemory) or AddChannels(c => c.AddInMemoryLayer()).");

    private async ValueTask AttachLayerAsync()
    {
        var manager = Scope.ApplicationServices.GetService<IChannelLayerManager>();
        var layer = manager?.GetLayerOrDefault(ChannelLayerAlias);
        if (layer is null)
        {
            if (!string.Equals(ChannelLayerAlias, ChannelLayersOptions.DefaultAlias, StringComparison.Ordinal))
            {
                throw NoLayer();
            }

            return;
        }

        var channelName = await layer.NewChannelAsync(cancellationToken: Aborted).ConfigureAwait(false);
        _layer = new ConsumerChannelLayer(layer, channelName);
    }

    /// <summary>A handler asked to stop: close the connection normally.</summary>
    private async ValueTask StopAsync()
    {
        _endCode = 1000;
        _endCodeFinal = true;
        if (Session is IWebSocketSession { IsAccepted: true } webSocket)
        {
            await webSocket.CloseAsync(1000).ConfigureAwait(false);
        }

        OnClientGone(1000);
    }

    private async ValueTask FailAsync()
    {
        _endCode = 1011;
        _endCodeFinal = true;
        try
        {
            await FailConnectionAsync().ConfigureAwait(false);
        }
        catch (Exception closeError)
        {
            LogCloseFailed(Logger, closeError, GetType().Name);
        }

        OnClientGone(1011);
    }

    private async ValueTask EndOnceAsync(int code)
    {
        if (_endRan)
        {
            return;
        }

        _endRan = true;
        try
        {
            await OnEndAsync(code).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not StopConsumerException)
        {
            LogHandlerFailed(Logger, ex, GetType().Name, "disconnect");
        }
        catch (StopConsumerException)
        {
            // Django's websocket_disconnect raises StopConsumer itself: the normal way to end.
        }
    }

    private async ValueTask ObserveAsync(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The loop is ending: this is how the reader is told.
        }
        catch (Exception ex)
        {
            LogBackgroundFailed(Logger, ex, GetType().Name);
        }
    }

    [LoggerMessage(100, LogLevel.Error, "Consumer {Consumer} failed handling '{EventType}'; closing the connection (1011).")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string consumer, string eventType);

    [LoggerMessage(101, LogLevel.Error, "Consumer {Consumer} failed to start; closing the connection.")]
    private static partial void LogConsumerFailed(ILogger logger, Exception exception, string consumer);

    [LoggerMessage(102, LogLevel.Warning, "Consumer {Consumer} could not leave its groups.")]
    private static partial void LogLeaveGroupsFailed(ILogger logger, Exception exception, string consumer);

    [LoggerMessage(105, LogLevel.Warning, "Consumer {Consumer} could not close its connection with 1011 after a failure.")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception, string consumer);

    [LoggerMessage(103, LogLevel.Debug, "Consumer {Consumer} stopped from '{EventType}'.")]
    private static partial void LogStopped(ILogger logger, string consumer, string eventType);

    [LoggerMessage(104, LogLevel.Error, "Consumer {Consumer}: reading its client failed.")]
    private static partial void LogBackgroundFailed(ILogger logger, Exception exception, string consumer);
}
