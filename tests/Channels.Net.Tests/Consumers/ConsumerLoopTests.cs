using System.Collections.Concurrent;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using Channels.Net.Consumers;
using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Channels.Net.Layers.InMemory;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;

namespace Channels.Net.Tests.Consumers;

/// <summary>
/// The consumer's one ordered loop: client events and channel-layer messages pass through it one at a time,
/// in the order they arrived, and none is lost; the client is read ahead (at most the inbox's capacity) while a
/// handler runs.
/// </summary>
public sealed class ConsumerLoopTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Client_events_that_arrived_before_a_layer_message_are_handled_before_it_and_later_ones_after()
    {
        await using var host = new ConsumerTestHost();
        var session = new ScriptedSession();
        var record = new Record();
        var run = RunAsync(host, session, record);
        await record.Connected.Task.WaitAsync(Wait);

        // "a" holds the loop (its handler waits on the gate) while "b" and "c" are read into the inbox.
        session.Post("a");
        await record.Holding.Task.WaitAsync(Wait);
        session.Post("b");
        session.Post("c");
        await session.WaitForReadsAsync(4, Wait); // connect, a, b, c

        // The consumer's layer receive is waiting, so the message reaches its inbox as it is sent.
        await host.Layer.SendAsync(record.Channel!, ChannelMessage.Create("loop.note", [new("text", "L")]));
        session.Post("d");
        await session.WaitForReadsAsync(5, Wait);

        record.Gate.SetResult();
        await record.WaitForCountAsync(5, Wait);
        Assert.Equal(["client:a", "client:b", "client:c", "layer:L", "client:d"], record.Handled);
        Assert.Equal(1, record.MaxConcurrent);

        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_layer_message_sent_while_a_client_event_is_handled_comes_before_the_next_client_event()
    {
        await using var host = new ConsumerTestHost();
        var session = new ScriptedSession();
        var record = new Record { SendToSelfOn = "a" };
        var run = RunAsync(host, session, record);
        await record.Connected.Task.WaitAsync(Wait);
        record.Gate.SetResult();

        session.Post("a");
        await record.WaitForCountAsync(2, Wait); // a, then the message its handler sent to the consumer's own channel
        session.Post("b");
        await record.WaitForCountAsync(3, Wait);

        Assert.Equal(["client:a", "layer:from a", "client:b"], record.Handled);
        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_burst_of_layer_messages_is_handled_in_order_and_none_is_lost()
    {
        const int count = 1_000;
        await using var host = new ConsumerTestHost(configure: services => services.AddChannels(c => c.AddInMemoryLayer(configure: o => o.Capacity = count)));
        var session = new ScriptedSession();
        var record = new Record();
        var run = RunAsync(host, session, record);
        await record.Connected.Task.WaitAsync(Wait);
        record.Gate.SetResult();

        for (var i = 0; i < count; i++)
        {
            await host.Layer.SendAsync(record.Channel!, ChannelMessage.Create("loop.note", [new("text", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
        }

        await record.WaitForCountAsync(count, Wait);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"layer:{i}"), record.Handled);
        Assert.Equal(1, record.MaxConcurrent);
        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_client_faster_than_its_handler_is_read_at_most_an_inbox_ahead_and_loses_nothing()
    {
        const int count = 300;
        await using var host = new ConsumerTestHost();
        var session = new ScriptedSession();
        var record = new Record();
        var run = RunAsync(host, session, record);
        await record.Connected.Task.WaitAsync(Wait);

        // Every message is there at once; the first handler holds the loop until the gate opens.
        for (var i = 0; i < count; i++)
        {
            session.Post(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await record.Holding.Task.WaitAsync(Wait);
        await session.WaitForReadsAsync(1 + 1 + ConsumerInbox.Capacity, Wait); // connect, the held one, a full inbox
        var readWhileHeld = session.Reads;
        record.Gate.SetResult();

        await record.WaitForCountAsync(count, Wait);
        Assert.Equal(1 + 1 + ConsumerInbox.Capacity, readWhileHeld);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"client:{i}"), record.Handled);
        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_client_vanishing_while_the_inbox_is_full_ends_the_held_handler_and_drops_the_queued_events()
    {
        await using var host = new ConsumerTestHost();
        var session = new ScriptedSession();
        var record = new Record { ObserveAborted = true };
        var run = RunAsync(host, session, record);
        await record.Connected.Task.WaitAsync(Wait);
        for (var i = 0; i < ConsumerInbox.Capacity + 10; i++)
        {
            session.Post("m");
        }

        await record.Holding.Task.WaitAsync(Wait);
        await session.WaitForReadsAsync(1 + 1 + ConsumerInbox.Capacity, Wait);

        // The held handler ends only when Aborted is cancelled; the disconnect comes after the queued events.
        session.Vanish(1006);
        await run.WaitAsync(Wait);
        Assert.Equal(1006, record.DisconnectCode);
        Assert.Equal(["client:m"], record.Handled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_any_layer_a_burst_and_a_message_sent_from_a_handler_keep_their_order(bool asyncLayer)
    {
        const int count = 500;
        await using var inner = new InMemoryChannelLayer(new InMemoryChannelLayerOptions { Capacity = count });
        using var services = Services(asyncLayer ? new AsyncLayer(inner) : inner);
        var session = new ScriptedSession();
        var record = new Record { SendToSelfOn = "a" };
        var run = RunAsync(services, session, record);
        await record.Connected.Task.WaitAsync(Wait);
        record.Gate.SetResult();

        session.Post("first");
        await record.WaitForCountAsync(1, Wait);
        for (var i = 0; i < count; i++)
        {
            await inner.SendAsync(record.Channel!, ChannelMessage.Create("loop.note", [new("text", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
        }

        await record.WaitForCountAsync(1 + count, Wait);
        session.Post("a");
        await record.WaitForCountAsync(2 + count + 1, Wait);
        session.Post("b");
        await record.WaitForCountAsync(2 + count + 2, Wait);

        Assert.Equal(
            ["client:first", .. Enumerable.Range(0, count).Select(i => $"layer:{i}"), "client:a", "layer:from a", "client:b"],
            record.Handled);
        Assert.Equal(1, record.MaxConcurrent);
        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    /// <summary>
    /// A receive's result is taken only by the continuation registered on it: a layer may complete a pending
    /// receive (so that it reads as completed) a moment before it invokes the continuation, and a pooled source is
    /// reused as soon as its result is taken. The probe layer completes each receive as its continuation is
    /// registered and invokes that continuation only later; it counts results taken before then.
    /// </summary>
    [Fact]
    public async Task A_layer_receive_is_taken_only_by_its_own_continuation()
    {
        var layer = new HandOverProbeLayer();
        for (var i = 0; i < 3; i++)
        {
            layer.Enqueue(ChannelMessage.Create("loop.note", [new("text", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
        }

        using var services = Services(layer);
        var session = new ScriptedSession();
        var record = new Record();
        var run = RunAsync(services, session, record);
        await record.Connected.Task.WaitAsync(Wait);
        record.Gate.SetResult();

        await record.WaitForCountAsync(3, Wait);
        Assert.Equal(["layer:0", "layer:1", "layer:2"], record.Handled);
        Assert.Equal(0, layer.TakenBeforeContinuation);
        Assert.True(layer.Receives >= 3, $"Only {layer.Receives} receives were made.");
        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    /// <summary>
    /// The in-memory layer hands a message to a waiting consumer on the sender's thread. Two senders and a client
    /// race the consumer's loop, which starts a receive (reusing the channel's pooled waiter) after every message:
    /// no send fails, every message arrives, each sender's in order, and handlers never overlap.
    /// </summary>
    [Fact]
    public async Task Senders_racing_the_loop_of_an_in_memory_consumer_lose_nothing_and_never_fail()
    {
        const int perSender = 20_000;
        const int clientMessages = 2_000;
        await using var layer = new InMemoryChannelLayer(new InMemoryChannelLayerOptions { Capacity = 2 * perSender });
        using var services = Services(layer);
        var session = new ScriptedSession();
        var record = new Record();
        var run = RunAsync(services, session, record);
        await record.Connected.Task.WaitAsync(Wait);
        record.Gate.SetResult();

        var senders = Enumerable.Range(0, 2).Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < perSender; i++)
            {
                await layer.SendAsync(record.Channel!, ChannelMessage.Create("loop.note", [new("text", $"{s}.{i}")]));
            }
        })).ToList();
        var client = Task.Run(() =>
        {
            for (var i = 0; i < clientMessages; i++)
            {
                session.Post("c");
            }
        });

        await Task.WhenAll([.. senders, client]).WaitAsync(Wait * 3);
        await record.WaitForCountAsync((2 * perSender) + clientMessages, Wait * 3);

        var handled = record.Handled;
        Assert.Equal(clientMessages, handled.Count(h => h == "client:c"));
        for (var s = 0; s < 2; s++)
        {
            var prefix = $"layer:{s}.";
            Assert.Equal(
                Enumerable.Range(0, perSender).Select(i => $"{prefix}{i}"),
                handled.Where(h => h.StartsWith(prefix, StringComparison.Ordinal)));
        }

        Assert.Equal(1, record.MaxConcurrent);
        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_layer_that_fails_while_the_consumer_waits_ends_it_with_1011_and_disconnect_runs(bool asyncLayer)
    {
        var inner = new InMemoryChannelLayer();
        using var services = Services(asyncLayer ? new AsyncLayer(inner) : inner);
        var session = new ScriptedSession();
        var record = new Record();
        var run = RunAsync(services, session, record);
        await record.Connected.Task.WaitAsync(Wait);

        await inner.DisposeAsync(); // The consumer's waiting receive fails.

        await run.WaitAsync(Wait);
        Assert.Equal(1011, session.ClosedWith);
        Assert.Equal(1011, record.DisconnectCode);
    }

    private static Task RunAsync(ConsumerTestHost host, ScriptedSession session, Record record) => RunAsync(host.Services, session, record);

    private static Task RunAsync(IServiceProvider services, ScriptedSession session, Record record)
    {
        var scope = new ChannelScope { Type = ChannelScopeType.WebSocket, Path = "/", RequestServices = services };
        return Consumer<RecordingLoopConsumer>(c => c.Record = record).RunAsync(scope, session).AsTask();
    }

    private static ServiceProvider Services(IChannelLayer layer) =>
        new ServiceCollection().AddLogging().AddSingleton<IChannelLayerManager>(new OneLayer(layer)).BuildServiceProvider();

    /// <summary>What a <see cref="RecordingLoopConsumer"/> did, for one test.</summary>
    public sealed class Record
    {
        private readonly ConcurrentQueue<string> _handled = new();
        private int _running;
        private int _maxConcurrent;

        public TaskCompletionSource Connected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string? Channel { get; set; }

        public string? SendToSelfOn { get; init; }

        public bool ObserveAborted { get; init; }

        public int? DisconnectCode { get; set; }

        public IReadOnlyList<string> Handled => [.. _handled];

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public void Enter()
        {
            var running = Interlocked.Increment(ref _running);
            int max;
            while (running > (max = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, running, max) != max)
            {
            }
        }

        public void Leave(string handled)
        {
            _handled.Enqueue(handled);
            Interlocked.Decrement(ref _running);
        }

        public async Task WaitForCountAsync(int count, TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (_handled.Count < count)
            {
                await Task.Delay(5, cts.Token);
            }
        }
    }

    /// <summary>Records each event it handles; the first client message waits on the record's gate.</summary>
    public sealed class RecordingLoopConsumer : AsyncWebSocketConsumer
    {
        public Record Record { get; set; } = null!;

        public override async Task ConnectAsync()
        {
            Record.Channel = ChannelName;
            await AcceptAsync();
            Record.Connected.TrySetResult();
        }

        public override async Task ReceiveAsync(string? text, byte[]? bytes)
        {
            Record.Enter();
            try
            {
                if (!Record.Holding.Task.IsCompleted)
                {
                    Record.Holding.TrySetResult();
                    await (Record.ObserveAborted ? Task.Delay(Timeout.Infinite, Aborted) : Record.Gate.Task);
                }

                if (text == Record.SendToSelfOn)
                {
                    await ChannelLayer.SendAsync(ChannelName, ChannelMessage.Create("loop.note", [new("text", "from " + text)]));
                }
            }
            finally
            {
                Record.Leave("client:" + text);
            }
        }

        [ChannelEvent("loop.note")]
        public Task Note(ChannelMessage e)
        {
            Record.Enter();
            Record.Leave("layer:" + e.GetString("text"));
            return Task.CompletedTask;
        }

        public override Task DisconnectAsync(int code)
        {
            Record.DisconnectCode = code;
            return Task.CompletedTask;
        }
    }

    /// <summary>A WebSocket session whose events the test posts, counting how many the consumer has read.</summary>
    private sealed class ScriptedSession : IWebSocketSession
    {
        private readonly Channel<WebSocketEvent> _events = Channel.CreateUnbounded<WebSocketEvent>();
        private readonly CancellationTokenSource _aborted = new();
        private int _reads;
        private WebSocketEvent? _gone;

        public ScriptedSession()
        {
            _events.Writer.TryWrite(WebSocketEvent.Connect);
        }

        public int Reads => Volatile.Read(ref _reads);

        public bool IsAccepted { get; private set; }

        public CancellationToken Aborted => _aborted.Token;

        public void Post(string text) => _events.Writer.TryWrite(WebSocketEvent.FromText(text));

        public void Post(WebSocketEvent e) => _events.Writer.TryWrite(e);

        /// <summary>The client is gone without a word: Aborted is cancelled now, the disconnect is the last event.</summary>
        public void Vanish(int code)
        {
            _events.Writer.TryWrite(WebSocketEvent.Disconnected(code));
            _aborted.Cancel();
        }

        public async Task WaitForReadsAsync(int reads, TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (Reads < reads)
            {
                await Task.Delay(5, cts.Token);
            }
        }

        public async ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
        {
            if (_gone is { } gone)
            {
                return gone;
            }

            var e = await _events.Reader.ReadAsync(cancellationToken);
            Interlocked.Increment(ref _reads);
            if (e.Kind == WebSocketEventKind.Disconnect)
            {
                _gone = e;
                await _aborted.CancelAsync();
            }

            return e;
        }

        public ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
        {
            IsAccepted = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public int? ClosedWith { get; private set; }

        public ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default)
        {
            ClosedWith ??= code ?? 1000;
            _events.Writer.TryWrite(WebSocketEvent.Disconnected(code ?? 1000));
            return ValueTask.CompletedTask;
        }

        public ValueTask RejectAsync(int statusCode, string reason) => CloseAsync(1011);
    }

    /// <summary>A layer like a network one: every receive completes later, on the thread pool.</summary>
    private sealed class AsyncLayer(IChannelLayer inner) : IChannelLayer
    {
        public ChannelLayerExtensions Extensions => inner.Extensions;

        public ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default) => inner.SendAsync(channel, message, cancellationToken);

        public async ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return await inner.ReceiveAsync(channel, cancellationToken);
        }

        public ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default) => inner.NewChannelAsync(prefix, cancellationToken);

        public ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default) => inner.GroupAddAsync(group, channel, cancellationToken);

        public ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default) => inner.GroupDiscardAsync(group, channel, cancellationToken);

        public ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default) => inner.GroupSendAsync(group, message, cancellationToken);

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>
    /// A layer whose every receive is pending when returned, reads as completed once a continuation is registered
    /// (when a message is queued for it), and invokes that continuation 20 ms later on the thread pool.
    /// </summary>
    private sealed class HandOverProbeLayer : IChannelLayer
    {
        private readonly ConcurrentQueue<ChannelMessage> _messages = new();
        private int _takenBeforeContinuation;
        private int _receives;

        public int TakenBeforeContinuation => Volatile.Read(ref _takenBeforeContinuation);

        public int Receives => Volatile.Read(ref _receives);

        public ChannelLayerExtensions Extensions => ChannelLayerExtensions.None;

        public void Enqueue(ChannelMessage message) => _messages.Enqueue(message);

        public ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _receives);
            return new ValueTask<ChannelMessage>(new Receive(this, cancellationToken), 0);
        }

        public ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default) =>
            ValueTask.FromResult($"{prefix}.probe!{Guid.NewGuid():N}");

        public ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Receive(HandOverProbeLayer layer, CancellationToken cancellationToken) : IValueTaskSource<ChannelMessage>
        {
            private ChannelMessage? _message;
            private bool _cancelled;
            private volatile bool _registered;
            private volatile bool _invoked;

            public ValueTaskSourceStatus GetStatus(short token) =>
                _cancelled ? ValueTaskSourceStatus.Canceled : _message is null ? ValueTaskSourceStatus.Pending : ValueTaskSourceStatus.Succeeded;

            public ChannelMessage GetResult(short token)
            {
                if (_registered && !_invoked)
                {
                    Interlocked.Increment(ref layer._takenBeforeContinuation);
                }

                return _cancelled ? throw new OperationCanceledException(cancellationToken) : _message!;
            }

            public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            {
                _registered = true;
                if (layer._messages.TryDequeue(out var message))
                {
                    _message = message; // Completed now; the continuation comes a moment later.
                    _ = Task.Run(async () =>
                    {
                        await Task.Delay(20);
                        _invoked = true;
                        continuation(state);
                    });
                    return;
                }

                // Nothing more to give: wait for the consumer to end.
                cancellationToken.UnsafeRegister(_ =>
                {
                    _cancelled = true;
                    _invoked = true;
                    continuation(state);
                }, null);
            }
        }
    }

    private sealed class OneLayer(IChannelLayer layer) : IChannelLayerManager
    {
        public IReadOnlyCollection<string> Aliases => [ChannelLayersOptions.DefaultAlias];

        public bool Contains(string alias) => alias == ChannelLayersOptions.DefaultAlias;

        public IChannelLayer GetLayer(string alias = ChannelLayersOptions.DefaultAlias) => GetLayerOrDefault(alias) ?? throw new InvalidOperationException(alias);

        public IChannelLayer? GetLayerOrDefault(string alias = ChannelLayersOptions.DefaultAlias) => Contains(alias) ? layer : null;
    }
}
