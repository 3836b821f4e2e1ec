namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// Counts what every client of one framework receives in the current phase ("round"): per client the deliveries,
/// the time of the last one and per-sender order; optionally every delivery's latency. A phase is complete when
/// every client has received its expected number of messages of that round.
/// </summary>
/// <remarks>Each client's receive callback runs one message at a time (a receive loop per ClientWebSocket;
/// SignalR invokes a connection's handlers in order), so per-client counters need no locks.</remarks>
internal sealed class DeliveryTracker
{
    private int _round = -1;
    private int _expectedPerClient;
    private int _remainingClients;
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long[]? _latencies;
    private int _latencyCount;

    /// <summary>Starts a phase. Call only when no message of an earlier phase is still expected.</summary>
    /// <returns>A task that completes when every client got <paramref name="expectedPerClient"/> messages of <paramref name="round"/>.</returns>
    public Task Begin(int round, int expectedPerClient, IReadOnlyList<BroadcastClient> clients, int latencyCapacity = 0)
    {
        Volatile.Write(ref _round, -1);
        foreach (var client in clients)
        {
            client.ResetCounters();
        }

        _latencies = latencyCapacity > 0 ? new long[latencyCapacity] : null;
        _latencyCount = 0;
        _expectedPerClient = expectedPerClient;
        _remainingClients = clients.Count;
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _round, round);
        return _done.Task;
    }

    /// <summary>The latencies (Stopwatch ticks) recorded in this phase.</summary>
    public ReadOnlySpan<long> Latencies => _latencies is null ? default : _latencies.AsSpan(0, Math.Min(Volatile.Read(ref _latencyCount), _latencies.Length));

    public void OnDelivery(BroadcastClient client, in BroadcastMessage.Fields message, long receivedAt)
    {
        if (message.Round != Volatile.Read(ref _round))
        {
            client.Stale++;
            return;
        }

        var lastSeq = client.LastSeq;
        if ((uint)message.Sender < (uint)lastSeq.Length)
        {
            if (message.Seq <= lastSeq[message.Sender])
            {
                client.OutOfOrder++;
            }

            lastSeq[message.Sender] = message.Seq;
        }

        client.LastDeliveryAt = receivedAt;
        if (_latencies is { } latencies)
        {
            var i = Interlocked.Increment(ref _latencyCount) - 1;
            if (i < latencies.Length)
            {
                latencies[i] = receivedAt - message.Timestamp;
            }
        }

        if (++client.Received == _expectedPerClient && Interlocked.Decrement(ref _remainingClients) == 0)
        {
            _done.TrySetResult();
        }
    }
}
