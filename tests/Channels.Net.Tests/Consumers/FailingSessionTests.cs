using Channels.Net.Consumers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Tests.Consumers;

public sealed class FailingSessionTests
{
    [Fact]
    public async Task A_session_that_throws_while_reading_ends_the_consumer_as_a_vanished_client()
    {
        await using var host = new ConsumerTestHost();
        var session = new ThrowingSession();
        var scope = new ChannelScope { Type = ChannelScopeType.WebSocket, Path = "/", RequestServices = host.Services };

        await new ConsumerApplication<DisconnectCountingConsumer>().RunAsync(scope, session).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(session.Accepted);
        Assert.Contains(1006, DisconnectCountingConsumer.Codes);
    }

    [Fact]
    public async Task A_close_that_fails_after_a_handler_failure_is_logged_as_a_failed_close()
    {
        var logs = new ListLoggerProvider();
        await using var host = new ConsumerTestHost(configure: services => services.AddLogging(b => b.AddProvider(logs)));
        var session = new CloseThrowingSession();
        var scope = new ChannelScope { Type = ChannelScopeType.WebSocket, Path = "/", RequestServices = host.Services };

        await new ConsumerApplication<FailingHandlerConsumer>().RunAsync(scope, session).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains(logs.Entries, e => e.Id == 100); // the handler's failure
        var closeFailed = Assert.Single(logs.Entries, e => e.Id == 105);
        Assert.Contains("could not close", closeFailed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.Id == 102); // not "could not leave its groups"
    }

    /// <summary>Throws on the first message (its own type: <see cref="ThrowingConsumer"/> keeps codes other tests read).</summary>
    public sealed class FailingHandlerConsumer : AsyncWebSocketConsumer
    {
        public override Task ReceiveAsync(string? text, byte[]? bytes) => throw new InvalidOperationException("boom");
    }

    /// <summary>Connects, delivers one message (the handler throws on it), and fails to close.</summary>
    private sealed class CloseThrowingSession : IWebSocketSession
    {
        private int _reads;
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsAccepted { get; private set; }

        public CancellationToken Aborted => CancellationToken.None;

        public async ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
        {
            switch (Interlocked.Increment(ref _reads))
            {
                case 1:
                    return WebSocketEvent.Connect;
                case 2:
                    return WebSocketEvent.FromText("boom");
                default:
                    await _closed.Task.WaitAsync(cancellationToken);
                    return WebSocketEvent.Disconnected(1006);
            }
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
            _closed.TrySetResult();
            throw new IOException("the close could not be written");
        }

        public ValueTask RejectAsync(int statusCode, string reason) => ValueTask.CompletedTask;
    }

    private sealed class ListLoggerProvider : ILoggerProvider, ILogger
    {
        public List<(int Id, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((eventId.Id, formatter(state, exception)));
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Connects, then fails on the next read as a broken transport would.</summary>
    private sealed class ThrowingSession : IWebSocketSession
    {
        private int _reads;

        public bool Accepted { get; private set; }

        public bool IsAccepted => Accepted;

        public CancellationToken Aborted => CancellationToken.None;

        private readonly TaskCompletionSource _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<WebSocketEvent> ReceiveAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _reads) == 1)
            {
                return WebSocketEvent.Connect;
            }

            await _accepted.Task.WaitAsync(cancellationToken);
            throw new IOException("transport broke");
        }

        public ValueTask AcceptAsync(string? subprotocol = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
        {
            Accepted = true;
            _accepted.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask CloseAsync(int? code = null, string? reason = null, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask RejectAsync(int statusCode, string reason) => ValueTask.CompletedTask;
    }
}
