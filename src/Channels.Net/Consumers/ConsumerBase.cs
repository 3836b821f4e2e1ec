using System.Threading.Channels;
using Channels.Net.Consumers.Dispatch;
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
    /// <summary>How many events may wait for the loop; a full inbox slows the client reader and the layer pump (backpressure).</summary>
    internal const int InboxCapacity = 64;

    /// <summary>How long an ending WebSocket consumer waits for its session's disconnect event.</summary>
    private static readonly TimeSpan ReaderGrace = TimeSpan.FromSeconds(2);

    private readonly EventHandlerTable _handlers;
    private Channel<ConsumerEvent>? _inbox;
    private CancellationTokenSource? _abort;
    private CancellationTokenSource? _stopReading;
    private ConsumerChannelLayer? _layer;
    private string? _channelName;
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
    public string ChannelName => _channelName ?? throw NoLayer();

    /// <summary>Cancelled when the client is gone or the server stops; pass it to slow work.</summary>
    protected CancellationToken Aborted => _abort?.Token ?? CancellationToken.None;

    /// <summary>A logger named after the consumer's type.</summary>
    protected ILogger Logger { get; private set; } = NullLogger.Instance;

    /// <summary>The server side of the connection.</summary>
    private protected IChannelSession Session { get; private set; } = null!;

    private protected IChannelLayer AsyncLayer => (IChannelLayer?)_layer ?? throw NoLayer();

    private protected bool ClientGone => _clientGone;

    /// <summary>Serves one connection from start to end.</summary>
    internal async ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        if (Session is not null)
        {
            throw new InvalidOperationException($"A {GetType().Name} serves one connection; make a new instance per connection.");
        }

        Scope = scope;
        Session = session;
        Logger = scope.RequestServices.GetService<ILoggerFactory>()?.CreateLogger(GetType()) ?? NullLogger.Instance;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(session.Aborted);

        // The reader is not tied to Aborted: the session reports a vanished client as a disconnect
        // event carrying the real close code, which the reader must still see.
        _stopReading = new CancellationTokenSource();
        _inbox = Channel.CreateBounded<ConsumerEvent>(new BoundedChannelOptions(InboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        Task? reader = null, pump = null;
        try
        {
            await AttachLayerAsync().ConfigureAwait(false);
            reader = ReadClientAsync(_inbox.Writer, _stopReading.Token);
            if (_layer is not null)
            {
                pump = PumpLayerAsync(_layer.Inner, _channelName!, _inbox.Writer, _abort.Token);
            }

            await DispatchLoopAsync(_inbox.Reader).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_abort.IsCancellationRequested)
        {
            LogConsumerFailed(Logger, ex, GetType().Name);
            await FailAsync().ConfigureAwait(false);
        }
        finally
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            _inbox.Writer.TryComplete();
            if (reader is not null && Session is IWebSocketSession)
            {
                // A closed WebSocket reports its disconnect (with its code) promptly; wait a little for it.
                await Task.WhenAny(reader, Task.Delay(ReaderGrace)).ConfigureAwait(false);
            }

            await _stopReading.CancelAsync().ConfigureAwait(false);
            await ObserveAsync(reader).ConfigureAwait(false);
            await ObserveAsync(pump).ConfigureAwait(false);
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

            _abort.Dispose();
            _stopReading.Dispose();
        }
    }

    /// <summary>Calls a handler with the message and <see cref="Aborted"/>.</summary>
    private ValueTask InvokeHandlerAsync(Dispatch.EventHandler handler, ChannelMessage message) =>
        handler.Invoke(this, message, Aborted);

    /// <summary>The client is gone (or the connection ended): stop taking events, run disconnect with <paramref name="code"/>.</summary>
    private protected void OnClientGone(int code)
    {
        if (!_endCodeFinal)
        {
            _endCode = code;
        }

        _clientGone = true;
        _abort?.Cancel();
        _inbox?.Writer.TryComplete();
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

    private protected Exception NoLayer() => new InvalidChannelLayerException(
        $"{GetType().Name} has no channel layer: none is configured under the alias '{ChannelLayerAlias}'. " +
        $"Configure ChannelLayers:{ChannelLayerAlias}:Backend (for example InMemory) or AddChannels(c => c.AddInMemoryLayer()).");

    private async ValueTask AttachLayerAsync()
    {
        var manager = Scope.RequestServices.GetService<IChannelLayerManager>();
        var layer = manager?.GetLayerOrDefault(ChannelLayerAlias);
        if (layer is null)
        {
            if (!string.Equals(ChannelLayerAlias, ChannelLayersOptions.DefaultAlias, StringComparison.Ordinal))
            {
                throw NoLayer();
            }

            return;
        }

        _channelName = await layer.NewChannelAsync(cancellationToken: _abort!.Token).ConfigureAwait(false);
        _layer = new ConsumerChannelLayer(layer, _channelName);
    }

    private async Task DispatchLoopAsync(ChannelReader<ConsumerEvent> inbox)
    {
        while (await inbox.WaitToReadAsync().ConfigureAwait(false))
        {
            while (!_clientGone && inbox.TryRead(out var e))
            {
                try
                {
                    if (e.Message is not null)
                    {
                        await DispatchMessageAsync(e.Message).ConfigureAwait(false);
                    }
                    else
                    {
                        await HandleClientEventAsync(e).ConfigureAwait(false);
                    }

                    e.Handled?.TrySetResult();
                }
                catch (StopConsumerException)
                {
                    LogStopped(Logger, GetType().Name, e.Describe());
                    await StopAsync().ConfigureAwait(false);
                    return;
                }
                catch (OperationCanceledException) when (_abort!.IsCancellationRequested)
                {
                    return; // The client left while the handler ran; disconnect runs next.
                }
                catch (Exception ex)
                {
                    LogHandlerFailed(Logger, ex, GetType().Name, e.Describe());
                    await FailAsync().ConfigureAwait(false);
                    return;
                }
            }

            if (_clientGone)
            {
                return;
            }
        }
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
            LogLeaveGroupsFailed(Logger, closeError, GetType().Name);
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

    /// <summary>Moves the consumer's layer messages into the inbox. If the layer fails, the inbox is
    /// completed with the error, so the loop ends the consumer instead of it going deaf silently.</summary>
    private static async Task PumpLayerAsync(IChannelLayer layer, string channel, ChannelWriter<ConsumerEvent> inbox, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var message = await layer.ReceiveAsync(channel, cancellationToken).ConfigureAwait(false);
                await inbox.WriteAsync(ConsumerEvent.FromLayer(message), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not ChannelClosedException)
        {
            inbox.TryComplete(new InvalidOperationException($"Receiving from the channel layer on '{channel}' failed: {ex.Message}", ex));
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
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException or ObjectDisposedException)
        {
            // The loop is ending: these are how the reader and the pump are told.
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

    [LoggerMessage(103, LogLevel.Debug, "Consumer {Consumer} stopped from '{EventType}'.")]
    private static partial void LogStopped(ILogger logger, string consumer, string eventType);

    [LoggerMessage(104, LogLevel.Error, "Consumer {Consumer}: the client reader or the layer pump failed.")]
    private static partial void LogBackgroundFailed(ILogger logger, Exception exception, string consumer);
}
