using System.Collections.Concurrent;
using System.Threading.Channels;
using Channels.Net.Consumers;
using Channels.Net.Layers;
using static Channels.Net.Consumers.ConsumerApplications;

namespace Channels.Net.Tests.Consumers;

/// <summary>
/// The consumer inbox against a session's outgoing budget (docs/flow-control.md), with a session whose queued messages
/// the test sets: the inbox takes layer messages while the budget has room, stops when it is spent (the layer's
/// capacity then applies), and takes again when the session writes.
/// </summary>
public sealed class InboxBudgetTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task While_the_sessions_queue_spends_the_budget_the_channel_keeps_its_capacity_and_a_write_resumes_the_inbox()
    {
        await using var host = new ConsumerTestHost();
        var session = new BudgetedSession(maxMessages: 10) { Queued = 10 };
        var handled = new ConcurrentQueue<string>();
        var run = Run(host, session, handled, gate: null);
        var channel = await session.Channel.Task.WaitAsync(Wait);

        // Spent from the start: nothing is taken, and the channel holds its capacity (100), as for a consumer that is not reading.
        for (var i = 0; i < 100; i++)
        {
            await host.Layer.SendAsync(channel, Note(i));
        }

        await Assert.ThrowsAsync<ChannelFullException>(() => host.Layer.SendAsync(channel, Note(100)).AsTask());
        Assert.Empty(handled);
        Assert.Equal(1, session.Watchers);

        // The socket takes the queued messages: the inbox takes the channel's, in order.
        session.Write(10);
        await WaitUntilAsync(() => handled.Count == 100);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), handled);

        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_consumer_held_in_a_handler_holds_its_budget_of_layer_messages_then_its_channels_capacity()
    {
        await using var host = new ConsumerTestHost();
        var session = new BudgetedSession(maxMessages: 300);
        var handled = new ConcurrentQueue<string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = Run(host, session, handled, gate.Task);
        var channel = await session.Channel.Task.WaitAsync(Wait);

        // The first message holds the handler; the inbox takes up to its budget (300) meanwhile, and the channel
        // holds the rest up to its capacity (100): 1 + 300 + 100 get in, the next is refused.
        var accepted = 0;
        try
        {
            while (accepted < 1_000)
            {
                await host.Layer.SendAsync(channel, Note(accepted));
                accepted++;
            }
        }
        catch (ChannelFullException)
        {
        }

        Assert.InRange(accepted, 400, 401);
        gate.SetResult();
        await WaitUntilAsync(() => handled.Count == accepted);
        Assert.Equal(Enumerable.Range(0, accepted).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), handled);

        session.Post(WebSocketEvent.Disconnected(1000));
        await run.WaitAsync(Wait);
    }

    private static ChannelMessage Note(int i) => ChannelMessage.Create("budget.note", [new("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    private static Task Run(ConsumerTestHost host, BudgetedSession session, ConcurrentQueue<string> handled, Task? gate)
    {
        var scope = new ChannelScope { Type = ChannelScopeType.WebSocket, Path = "/", RequestServices = host.Services };
        return Consumer<BudgetConsumer>(c =>
        {
            c.Budgeted = session;
            c.Handled = handled;
            c.Gate = gate;
        }).RunAsync(scope, session).AsTask();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Wait);
        while (!condition())
        {
            await Task.Delay(5, cts.Token);
        }
    }

    /// <summary>Records the messages it handles; the first waits for the gate.</summary>
    public sealed class BudgetConsumer : AsyncWebSocketConsumer
    {
        internal BudgetedSession Budgeted { get; set; } = null!;

        internal ConcurrentQueue<string> Handled { get; set; } = null!;

        internal Task? Gate { get; set; }

        public override async Task ConnectAsync()
        {
            await AcceptAsync();
            Budgeted.Channel.TrySetResult(ChannelName);
        }

        [ChannelEvent("budget.note")]
        public async Task Note(ChannelMessage e)
        {
            if (Gate is { } gate)
            {
                await gate;
            }

            Handled.Enqueue(e.GetString("n")!);
        }
    }

    /// <summary>A WebSocket session with an outgoing budget whose queued messages the test sets and "writes".</summary>
    internal sealed class BudgetedSession : IWebSocketSession, IOutgoingBudget
    {
        private readonly Channel<WebSocketEvent> _events = System.Threading.Channels.Channel.CreateUnbounded<WebSocketEvent>();
        private readonly int _maxMessages;
        private readonly CancellationTokenSource _aborted = new();
        private readonly List<Action> _watchers = [];
        private WebSocketEvent? _gone;
        private int _queued;

        public BudgetedSession(int maxMessages)
        {
            _maxMessages = maxMessages;
            _events.Writer.TryWrite(WebSocketEvent.Connect);
        }

        public TaskCompletionSource<string> Channel { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Queued
        {
            get => Volatile.Read(ref _queued);
            init => _queued = value;
        }

        public int Watchers
        {
            get
            {
                lock (_watchers)
                {
                    return _watchers.Count;
                }
            }
        }

        public bool IsAccepted { get; private set; }

        public CancellationToken Aborted => _aborted.Token;

        int IOutgoingBudget.MaxMessages => _maxMessages;

        int IOutgoingBudget.QueuedMessages => Queued;

        bool IOutgoingBudget.HasByteRoom => true;

        public void Post(WebSocketEvent e) => _events.Writer.TryWrite(e);

        /// <summary>The socket took <paramref name="count"/> queued messages: the watchers are told.</summary>
        public void Write(int count)
        {
            Interlocked.Add(ref _queued, -count);
            Action[] watchers;
            lock (_watchers)
            {
                watchers = [.. _watchers];
                _watchers.Clear();
            }

            foreach (var watcher in watchers)
            {
                watcher();
            }
        }

        void IOutgoingBudget.WhenWritten(Action callback)
        {
            if (Queued == 0)
            {
                callback();
                return;
            }

            lock (_watchers)
            {
                _watchers.Add(callback);
            }
        }

        public async ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
        {
            if (_gone is { } gone)
            {
                return gone;
            }

            var e = await _events.Reader.ReadAsync(cancellationToken);
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

        public ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default)
        {
            _events.Writer.TryWrite(WebSocketEvent.Disconnected(code ?? 1000));
            return ValueTask.CompletedTask;
        }

        public ValueTask RejectAsync(int statusCode, string reason) => CloseAsync(1011);
    }
}
