using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Channels.Net.Consumers;

/// <summary>
/// What waits for one consumer's ordered loop, in arrival order: client events, read ahead (at most
/// <see cref="Capacity"/>) so that a client leaving is seen while a handler runs, and at most one
/// channel-layer message, taken straight from the layer's receive.
/// </summary>
/// <remarks>
/// <para>The loop (<see cref="ConsumerBase"/>'s <c>Process</c>) runs only while there are events: when it finds
/// none, it returns, and the next event starts it again on the thread pool; when a handler does not complete at
/// once, it returns too, and the handler's completion starts it again. An idle consumer therefore keeps no task
/// or suspended method of its own, and a busy one allocates nothing per event: the WebSocket session's pending
/// read, the layer's pending receive and a pending handler each hold this inbox's one continuation.</para>
/// <para>The next layer message is received once the loop took the previous one, so the layer's queue is
/// the consumer's queue and its capacity applies (Django's consumers receive the same way). A layer
/// message goes to the loop after the client events that arrived before it and before those that
/// arrive after it.</para>
/// <para>After the connect event the reader waits until the loop handled it: by then the consumer has
/// usually accepted, so the next read is the socket's own, not one that first waits for the handshake.</para>
/// <para>The client is read without a cancellation token: a WebSocket session ends every read with its
/// disconnect event (the client closes, leaves, or the server drops it after the application ended).
/// Once the consumer is done with it (<see cref="Detach"/>), what the reader still gets is dropped.</para>
/// </remarks>
internal sealed class ConsumerInbox : IThreadPoolWorkItem
{
    /// <summary>How many client events may wait for the loop; a full inbox pauses the client reader (backpressure).</summary>
    public const int Capacity = 64;

    private static readonly ContextCallback s_process = static state => ((ConsumerInbox)state!)._owner.Process();

    private readonly ConsumerBase _owner;
    private readonly IWebSocketSession? _client;
    private readonly IChannelLayer? _layer;
    private readonly ExecutionContext? _context;
    private readonly Action _onReceived;
    private readonly Action? _onLayerReceived;

    // Everything below is guarded by lock (this). The client events are queued only while there are any.
    private Queue<ConsumerEvent>? _clientEvents;
    private ChannelMessage? _layerMessage;
    private int _clientEventsBeforeLayer;
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
        bool receiveNext = false, resumeReader = false;
        lock (this)
        {
            if (_layerMessage is { } message && _clientEventsBeforeLayer == 0)
            {
                e = ConsumerEvent.FromLayer(message);
                _layerMessage = null;
                receiveNext = !_completed;
            }
            else if (_clientEvents is { } clientEvents)
            {
                e = clientEvents.Dequeue();
                if (clientEvents.Count == 0)
                {
                    _clientEvents = null;
                }

                if (_layerMessage is not null)
                {
                    _clientEventsBeforeLayer--;
                }

                if (_clientPaused)
                {
                    _clientPaused = false;
                    resumeReader = true;
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

        if (receiveNext)
        {
            ReceiveFromLayer();
        }

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
        lock (this)
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
        lock (this)
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
        lock (this)
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
        lock (this)
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
        lock (this)
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
        lock (this)
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
        lock (this)
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
                lock (this)
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
        lock (this)
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
                _clientPaused = _clientEvents!.Count >= Capacity;
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
        lock (this)
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

    /// <summary>Receives the consumer's next layer message; one receive at a time.</summary>
    private void ReceiveFromLayer()
    {
        ValueTask<ChannelMessage> receive;
        try
        {
            // The in-memory layer can hand the message over on the sender's thread: the continuation only takes
            // the message and schedules the loop, so that saves a thread-pool hop (and its allocation) per message.
            receive = _layer is InMemoryChannelLayer memory
                ? memory.ReceiveAsync(_owner.ChannelName, _owner.AbortedToken, continueInline: true)
                : _layer!.ReceiveAsync(_owner.ChannelName, _owner.AbortedToken);
        }
        catch (Exception ex)
        {
            OnLayerFailed(ex);
            return;
        }

        if (!receive.IsCompleted)
        {
            // Once the continuation is registered, only the continuation takes the result. A pooled source (the
            // in-memory layer's waiter) is reset and reused as soon as its result is taken: taking it here, while the
            // completing thread is between marking it complete and invoking the registered continuation, would hand
            // that continuation a reset source ("unexpected state object" from ValueTaskAwaiter).
            _layerReceive = receive;
            receive.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onLayerReceived!);
            return;
        }

        OnLayerReceived(receive);
    }

    /// <summary>The continuation of the pending layer receive: the one place its result is taken.</summary>
    private void OnLayerReceiveCompleted()
    {
        // Written before the continuation was registered (an interlocked write), which happened before this ran.
        var receive = _layerReceive;
        _layerReceive = default;
        OnLayerReceived(receive);
    }

    private void OnLayerReceived(ValueTask<ChannelMessage> receive)
    {
        ChannelMessage message;
        try
        {
            message = receive.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            OnLayerFailed(ex);
            return;
        }

        bool start;
        lock (this)
        {
            if (_completed)
            {
                return; // The loop has ended: the message is dropped, as a closed consumer drops what waits for it.
            }

            _layerMessage = message;
            _clientEventsBeforeLayer = _clientEvents?.Count ?? 0;
            start = StartLoopLocked();
        }

        StartLoop(start);
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
        lock (this)
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

    private void EnqueueLocked(ConsumerEvent e) => (_clientEvents ??= new Queue<ConsumerEvent>()).Enqueue(e);

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
    /// layer's own, which a handler must not hold up).</summary>
    private void StartLoop(bool start)
    {
        if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
