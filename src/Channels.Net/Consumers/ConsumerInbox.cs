using Channels.Net.Internal;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Channels.Net.Consumers;

/// <summary>
/// What waits for one consumer's ordered loop, in arrival order: client events, read ahead (at most
/// <see cref="Capacity"/>) so that a client leaving is seen while a handler runs, and channel-layer messages, taken
/// from the layer as soon as they arrive while the connection's outgoing budget has room.
/// </summary>
/// <remarks>
/// <para>The loop (<see cref="ConsumerBase"/>'s <c>Process</c>) runs only while there are events: when it finds
/// none, it returns, and the next event starts it again on the thread pool; when a handler does not complete at
/// once, it returns too, and the handler's completion starts it again. An idle consumer therefore keeps no task
/// or suspended method of its own, and a busy one allocates nothing per event: the WebSocket session's pending
/// read, the layer's pending receive and a pending handler each hold this inbox's one continuation.</para>
/// <para>Flow control (docs/flow-control.md): the inbox keeps one receive pending on the consumer's layer channel
/// and takes each message as it arrives, so a burst waits here, beside the connection, not in the layer's channel,
/// whose capacity (Django's 100) would skip the consumer in a group send. It takes messages while those it holds
/// plus those its session queued for the client (<see cref="IOutgoingBudget"/>) stay under the connection's budget
/// (<c>ChannelsOptions.MaxOutgoingMessages</c>; a session without a budget: <see cref="DefaultMaxLayerMessages"/>).
/// When the budget is spent it stops receiving, the layer's channel fills, and the layer's capacity applies; it
/// receives again once the loop took a message or the session wrote one.</para>
/// <para>After the connect event the reader waits until the loop handled it: by then the consumer has
/// usually accepted, so the next read is the socket's own, not one that first waits for the handshake.</para>
/// <para>The client is read without a cancellation token: a WebSocket session ends every read with its
/// disconnect event (the client closes, leaves, or the server drops it after the application ended).
/// Once the consumer is done with it (<see cref="Detach"/>), what the reader still gets is dropped.</para>
/// </remarks>
internal sealed class ConsumerInbox : IThreadPoolWorkItem, ILayerMessageReceiver
{
    /// <summary>How many client events may wait for the loop; a full inbox pauses the client reader (backpressure).</summary>
    public const int Capacity = 64;

    /// <summary>How many layer messages the inbox holds at most for a session without an outgoing budget (in-process
    /// test sessions, HTTP): the default of <c>ChannelsOptions.MaxOutgoingMessages</c>.</summary>
    public const int DefaultMaxLayerMessages = 8192;

    private static readonly ContextCallback s_process = static state => ((ConsumerInbox)state!)._owner.Process();

    private readonly ConsumerBase _owner;
    private readonly IWebSocketSession? _client;
    private readonly IChannelLayer? _layer;
    private readonly ExecutionContext? _context;
    private readonly Action _onReceived;
    private readonly Action? _onLayerReceived;
    private readonly IOutgoingBudget? _budget;
    private readonly int _maxLayerMessages;
    private readonly bool _batchable;
    private Action? _onBudgetRoom;

    private readonly Lock _lock = new();

    // Everything below is guarded by lock (_lock). The event queue is rented with the first event and returned when it empties.
    private Queue<ConsumerEvent>? _events;
    private int _clientCount;
    private int _layerCount;
    private bool _layerPaused;
    private bool _watchingBudget;
    private Task<WebSocketEvent>? _clientReceive;
    private Task? _handler;
    private ConsumerEvent _handlerEvent;
    private bool _handlerArmed;
    private bool _clientArmed;
    private bool _clientPaused;
    private bool _clientAwaitsConnect;
    private bool _clientEnded;
    private bool _looping = true;
    private bool _completed;
    private bool _detached;
    private Exception? _error;
    private TaskCompletionSource? _readerEnded;

    // Owned by the one pending layer receive: set before its continuation is registered, taken by that continuation.
    private ValueTask<ChannelMessage> _layerReceive;

    /// <param name="owner">The consumer: told when its client is gone, and run when events arrive while it is idle;
    /// its <see cref="ConsumerBase.ChannelName"/> is received on, with its Aborted token (which cancels the pending
    /// layer receive when it ends).</param>
    /// <param name="client">The WebSocket session this inbox reads; null when the consumer's own reader posts client events.</param>
    /// <param name="layer">The layer to receive from (null without a layer).</param>
    /// <remarks>The caller owns the loop until it calls <see cref="Take"/> and is told <see cref="Next.Idle"/>.
    /// The loop, whenever started again, runs in the execution context of the caller (so async-local values of
    /// the request, such as the current <c>HttpContext</c> of <c>IHttpContextAccessor</c>, stay visible to handlers).</remarks>
    public ConsumerInbox(ConsumerBase owner, IWebSocketSession? client, IChannelLayer? layer)
    {
        _owner = owner;
        _client = client;
        _layer = layer;
        _context = ExecutionContext.Capture();
        _onReceived = OnReceived;
        _onLayerReceived = layer is null ? null : OnLayerReceiveCompleted;
        _budget = client as IOutgoingBudget;
        _maxLayerMessages = _budget?.MaxMessages ?? DefaultMaxLayerMessages;
        _batchable = owner is not SyncConsumer;
    }

    /// <summary>What the layer receive does next, decided under the lock.</summary>
    private enum LayerStep
    {
        None,
        Resume,
        WatchBudget,
    }

    /// <summary>What <see cref="Take"/> found.</summary>
    public enum Next
    {
        /// <summary>An event, to handle now.</summary>
        Event,

        /// <summary>Nothing yet: the loop must return; the next event starts it again.</summary>
        Idle,

        /// <summary>The inbox is completed and empty: the consumer ends.</summary>
        End,
    }

    /// <summary>Starts reading the client (if this inbox reads it) and receiving from the layer.</summary>
    public void Start()
    {
        if (_client is not null)
        {
            ReadClient();
        }

        if (_layer is not null)
        {
            ReceiveFromLayer();
        }
    }

    /// <summary>
    /// Takes the next event in arrival order. When there is none, the loop gives up its turn
    /// (<see cref="Next.Idle"/>) and the next event starts it again; once the inbox is completed and empty
    /// it ends (<see cref="Next.End"/>), or throws the error the inbox was completed with.
    /// </summary>
    public Next Take(out ConsumerEvent e)
    {
        var layerStep = LayerStep.None;
        var resumeReader = false;
        lock (_lock)
        {
            if (_events is { Count: > 0 } events)
            {
                e = events.Dequeue();
                if (events.Count == 0)
                {
                    _events = null;
                    EventQueuePool.Return(events); // Kept for the next inbox that needs one: an idle connection holds none.
                }

                if (e.IsFromLayer)
                {
                    _layerCount--;
                    layerStep = NextLayerStepLocked();
                }
                else
                {
                    _clientCount--;
                    if (_clientPaused)
                    {
                        _clientPaused = false;
                        resumeReader = true;
                    }
                }
            }
            else
            {
                e = default;
                if (!_completed)
                {
                    _looping = false;
                    return Next.Idle;
                }

                if (_error is { } error)
                {
                    _error = null; // Thrown once; the consumer then ends.
                    throw error;
                }

                return Next.End;
            }
        }

        DoLayerStep(layerStep);
        if (resumeReader)
        {
            ReadClient();
        }

        return Next.Event;
    }

    /// <summary>The loop's handler for <paramref name="e"/> is still running: the loop returns, and starts again
    /// (<see cref="TakeFinishedHandler"/>) once <paramref name="handler"/> has completed.</summary>
    public void AwaitHandler(Task handler, ConsumerEvent e)
    {
        _handler = handler;
        _handlerEvent = e;
        handler.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onReceived);
        bool start;
        lock (_lock)
        {
            _handlerArmed = true;
            if (!handler.IsCompleted)
            {
                return;
            }

            _handlerArmed = false;
            start = true; // Completed meanwhile: the continuation may have found nothing to do.
        }

        StartLoop(start);
    }

    /// <summary>The handler the loop waited for, once it completed (the loop then finishes it first).</summary>
    public bool TakeFinishedHandler(out Task handler, out ConsumerEvent e)
    {
        lock (_lock)
        {
            if (_handler is null || _handlerArmed)
            {
                handler = null!;
                e = default;
                return false;
            }

            handler = _handler;
            e = _handlerEvent;
            _handler = null;
            _handlerEvent = default;
            return true;
        }
    }

    /// <summary>The loop handled a client event: a reader waiting for the connect event to be handled reads on.</summary>
    public void OnClientEventHandled()
    {
        lock (_lock)
        {
            if (!_clientAwaitsConnect)
            {
                return;
            }

            _clientAwaitsConnect = false;
        }

        ReadClient();
    }

    /// <summary>Queues a client event that the consumer's own reader (HTTP, worker) read. False once the inbox is completed.</summary>
    public bool TryPostClient(ConsumerEvent e)
    {
        bool start;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            EnqueueLocked(e);
            start = StartLoopLocked();
        }

        StartLoop(start);
        return true;
    }

    /// <summary>No more events will be taken: the loop ends once the queued ones are taken, with
    /// <paramref name="error"/> if given. A paused client reader resumes, to see the disconnect.</summary>
    public void Complete(Exception? error = null)
    {
        bool start, resumeReader;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _error = error;
            start = StartLoopLocked();
            resumeReader = _clientPaused || _clientAwaitsConnect;
            _clientPaused = _clientAwaitsConnect = false;
        }

        if (resumeReader)
        {
            ReadClient();
        }

        StartLoop(start);
    }

    /// <summary>Completes once the client reader saw the disconnect (or failed), or at once when this inbox does not read the client.</summary>
    public Task WhenReaderEnds()
    {
        lock (_lock)
        {
            if (_client is null || _clientEnded)
            {
                return Task.CompletedTask;
            }

            return (_readerEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>The consumer is done: nothing more is taken, and what the reader still gets is dropped.</summary>
    public void Detach()
    {
        lock (_lock)
        {
            _completed = true;
            _detached = true;
            _clientPaused = _clientAwaitsConnect = false;
        }
    }

    /// <summary>Runs the loop (on the thread pool, in the consumer's execution context).</summary>
    void IThreadPoolWorkItem.Execute()
    {
        if (_context is null)
        {
            _owner.Process();
        }
        else
        {
            ExecutionContext.Run(_context, s_process, this);
        }
    }

    /// <summary>Reads client events until a read is pending, the inbox is full or the client is gone.</summary>
    private void ReadClient()
    {
        while (true)
        {
            ValueTask<WebSocketEvent> receive;
            try
            {
                receive = _client!.ReceiveAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                OnClientFailed(ex);
                return;
            }

            if (!receive.IsCompleted)
            {
                // Held as a task: a session's pending read usually is one (an async method's), and a
                // task holds no copy of the result. The continuation may run before the receive is marked
                // armed; then it finds nothing to do, and the check below takes the result instead.
                var pending = receive.AsTask();
                _clientReceive = pending;
                pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onReceived);
                lock (_lock)
                {
                    _clientArmed = true;
                    if (!pending.IsCompleted)
                    {
                        return;
                    }

                    _clientArmed = false;
                    _clientReceive = null;
                }

                receive = new ValueTask<WebSocketEvent>(pending);
            }

            if (!OnClientReceived(receive))
            {
                return;
            }
        }
    }

    /// <summary>Handles a completed client read; true when the reader should read on.</summary>
    private bool OnClientReceived(ValueTask<WebSocketEvent> receive)
    {
        WebSocketEvent e;
        try
        {
            e = receive.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            OnClientFailed(ex);
            return false;
        }

        bool start, readOn;
        TaskCompletionSource? ended = null;
        lock (_lock)
        {
            if (_detached)
            {
                _clientEnded = true;
                return false;
            }

            if (e.Kind == WebSocketEventKind.Disconnect)
            {
                _clientEnded = true;
                ended = _readerEnded;
                start = readOn = false;
            }
            else if (_completed)
            {
                // The loop has ended: keep reading (and dropping) until the disconnect tells its code.
                return true;
            }
            else
            {
                EnqueueLocked(ConsumerEvent.FromClient(e));
                start = StartLoopLocked();

                // Full: the loop resumes the reader (Take) once it took an event; this reader stops here.
                // After the connect event, the loop resumes it once the event was handled (OnClientEventHandled).
                _clientPaused = _clientCount >= Capacity;
                _clientAwaitsConnect = e.Kind == WebSocketEventKind.Connect;
                readOn = !_clientPaused && !_clientAwaitsConnect;
            }
        }

        if (e.Kind == WebSocketEventKind.Disconnect)
        {
            _owner.OnClientGoneFromReader(e.Code);
            ended?.TrySetResult();
            return false;
        }

        StartLoop(start);
        return readOn;
    }

    private void OnClientFailed(Exception ex)
    {
        TaskCompletionSource? ended;
        bool detached;
        lock (_lock)
        {
            _clientEnded = true;
            ended = _readerEnded;
            detached = _detached;
        }

        if (!detached)
        {
            _owner.OnReaderFailed(ex);
        }

        ended?.TrySetResult();
    }

    /// <summary>Receives the consumer's layer messages while the budget has room; one receive at a time, and only
    /// this method (and the continuation or hand-over it registers) receives, until it pauses.</summary>
    private void ReceiveFromLayer()
    {
        while (true)
        {
            LayerStep step;
            int room;
            lock (_lock)
            {
                if (_completed)
                {
                    return;
                }

                room = LayerRoomLocked();
                if (room > 0)
                {
                    step = LayerStep.Resume;
                }
                else
                {
                    _layerPaused = true;
                    (_layer as IListeningChannelLayer)?.StopListening(_owner.ChannelName);
                    step = NextLayerStepLocked();
                }
            }

            if (step != LayerStep.Resume || room == 0)
            {
                DoLayerStep(step);
                return;
            }

            ValueTask<ChannelMessage> receive;
            try
            {
                // The in-memory layer (and the Redis layer's process-local buffers) hand the next message over by a call on
                // the deliverer's thread: no thread-pool hop, and no moment in which the receive is done but its message
                // not yet taken.
                if (_layer is IListeningChannelLayer listening &&
                    listening.TryReceiveOrListen(_owner.ChannelName, this, room, _owner.AbortedToken, out var message))
                {
                    if (message is null || !OnLayerMessageCore(message))
                    {
                        return;
                    }

                    continue;
                }

                receive = _layer!.ReceiveAsync(_owner.ChannelName, _owner.AbortedToken);
            }
            catch (Exception ex)
            {
                OnLayerFailed(ex);
                return;
            }

            if (!receive.IsCompleted)
            {
                // Once the continuation is registered, only the continuation takes the result. A pooled source is
                // reset and reused as soon as its result is taken: taking it here, while the completing thread is
                // between marking it complete and invoking the registered continuation, would hand that continuation
                // a reset source ("unexpected state object" from ValueTaskAwaiter).
                _layerReceive = receive;
                receive.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onLayerReceived!);
                return;
            }

            if (!OnLayerReceived(receive))
            {
                return;
            }
        }
    }

    /// <summary>The continuation of the pending layer receive: the one place its result is taken.</summary>
    private void OnLayerReceiveCompleted()
    {
        // Written before the continuation was registered (an interlocked write), which happened before this ran.
        var receive = _layerReceive;
        _layerReceive = default;
        if (OnLayerReceived(receive))
        {
            ReceiveFromLayer();
        }
    }

    /// <summary>Takes a completed layer receive's message; true when the inbox should receive on.</summary>
    private bool OnLayerReceived(ValueTask<ChannelMessage> receive)
    {
        ChannelMessage message;
        try
        {
            message = receive.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            OnLayerFailed(ex);
            return false;
        }

        return OnLayerMessageCore(message);
    }

    /// <summary>The in-memory layer's hand-over (on the sender's thread): queue the message, listen again.</summary>
    void ILayerMessageReceiver.OnLayerMessage(ChannelMessage message)
    {
        if (OnLayerMessageCore(message))
        {
            ReceiveFromLayer();
        }
    }

    void ILayerMessageReceiver.OnLayerError(Exception exception) => OnLayerFailed(exception);

    /// <summary>Queues a layer message for the loop; true when the inbox should receive on.</summary>
    private bool OnLayerMessageCore(ChannelMessage message)
    {
        bool start;
        lock (_lock)
        {
            if (_completed)
            {
                return false; // The loop has ended: the message is dropped, as a closed consumer drops what waits for it.
            }

            EnqueueLocked(ConsumerEvent.FromLayer(message));
            start = StartLoopLocked();
        }

        StartLoop(start);
        return true;
    }

    /// <summary>How many more layer messages the budget has room for: what the inbox holds plus what the session
    /// queued stays under the budget's message limit, and the session's queued bytes under its byte limit.</summary>
    private int LayerRoomLocked()
    {
        if (_budget is null)
        {
            return _maxLayerMessages - _layerCount;
        }

        return _budget.HasByteRoom ? Math.Max(0, _maxLayerMessages - _layerCount - _budget.QueuedMessages) : 0;
    }

    /// <summary>While paused: resume when there is room; otherwise, when the loop holds no layer message (so no
    /// <see cref="Take"/> will look again), watch the session's writes.</summary>
    private LayerStep NextLayerStepLocked()
    {
        if (!_layerPaused || _completed)
        {
            return LayerStep.None;
        }

        if (LayerRoomLocked() > 0)
        {
            _layerPaused = false;
            return LayerStep.Resume;
        }

        if (_layerCount == 0 && _budget is not null && !_watchingBudget)
        {
            _watchingBudget = true;
            return LayerStep.WatchBudget;
        }

        return LayerStep.None;
    }

    private void DoLayerStep(LayerStep step)
    {
        if (step == LayerStep.Resume)
        {
            ReceiveFromLayer();
        }
        else if (step == LayerStep.WatchBudget)
        {
            _budget!.WhenWritten(_onBudgetRoom ??= OnBudgetRoom); // Made the first time: most connections never wait.
        }
    }

    /// <summary>The session wrote a message while the inbox was paused with nothing of its own to hand the loop.</summary>
    private void OnBudgetRoom()
    {
        LayerStep step;
        lock (_lock)
        {
            _watchingBudget = false;
            step = NextLayerStepLocked();
        }

        DoLayerStep(step);
    }

    private void OnLayerFailed(Exception ex)
    {
        if (ex is OperationCanceledException && _owner.IsAbortRequested)
        {
            return; // The consumer is ending: its Aborted token cancelled the receive.
        }

        // The loop ends the consumer instead of it going deaf silently.
        Complete(new InvalidOperationException($"Receiving from the channel layer on '{_owner.ChannelName}' failed: {ex.Message}", ex));
    }

    /// <summary>The continuation of the pending client read and handler: takes whichever completed.</summary>
    private void OnReceived()
    {
        Task<WebSocketEvent>? client = null;
        var handled = false;
        lock (_lock)
        {
            if (_handlerArmed && _handler!.IsCompleted)
            {
                _handlerArmed = false;
                handled = true; // The loop is still owned (looping): it starts again to finish the handler.
            }

            if (_clientArmed && _clientReceive!.IsCompleted)
            {
                client = _clientReceive;
                _clientArmed = false;
                _clientReceive = null;
            }

        }

        if (client is not null && OnClientReceived(new ValueTask<WebSocketEvent>(client)))
        {
            ReadClient();
        }

        StartLoop(handled);
    }

    private void EnqueueLocked(ConsumerEvent e)
    {
        (_events ??= EventQueuePool.Rent()).Enqueue(e);
        if (e.IsFromLayer)
        {
            _layerCount++;
        }
        else
        {
            _clientCount++;
        }
    }

    /// <summary>True when the loop is idle: the caller then starts it (<see cref="StartLoop"/>), outside the lock.</summary>
    private bool StartLoopLocked()
    {
        if (_looping)
        {
            return false;
        }

        _looping = true;
        return true;
    }

    /// <summary>Starts the loop on the thread pool (never on the caller's thread: that may be a socket's or a
    /// layer's own, which a handler must not hold up); during a layer's fan-out, in the fan-out's
    /// <see cref="WorkItemBatch"/> (not for a <see cref="SyncConsumer"/>, whose handlers may block).</summary>
    private void StartLoop(bool start)
    {
        if (start && !(_batchable && WorkItemBatch.TryAdd(this)))
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
