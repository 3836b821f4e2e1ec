using Channels.Net.Consumers;

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
