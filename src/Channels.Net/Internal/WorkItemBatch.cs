namespace Channels.Net.Internal;

/// <summary>
/// Thread-pool work items (wake-ups of idle consumer loops) made while one message is handed to many channels (a group
/// send's fan-out), queued as a few work items instead of one per consumer.
/// </summary>
/// <remarks>
/// <para>A message to a room of 100 idle consumers used to queue 100 work items, and the pool woke a worker for each:
/// under a burst arriving from Redis one message at a time, those wake-ups (and the workers spinning for the next
/// item) cost more CPU than the consumers' handlers. In a batch, the loops are run one after another by at most
/// <see cref="Environment.ProcessorCount"/> work items (each taking at least <see cref="MinPerItem"/> loops).</para>
/// <para>A loop runs only until its handler awaits (the loop then returns and the handler's completion starts it
/// again, as always), so one consumer waiting on I/O holds up no other. Consumers whose handlers may block their
/// thread (<c>SyncConsumer</c>) are never batched.</para>
/// <para>Usage: the deliverer wraps its fan-out in <c>using (WorkItemBatch.Begin()) { … }</c>; a nested
/// <see cref="Begin"/> joins the batch already open on the thread.</para>
/// </remarks>
internal sealed class WorkItemBatch
{
    /// <summary>The fewest loops a work item of a batch runs (smaller batches are not split further).</summary>
    public const int MinPerItem = 16;

    /// <summary>This thread's batch, reused: open between <see cref="Begin"/> and its scope's end.</summary>
    [ThreadStatic]
    private static WorkItemBatch? t_batch;

    private readonly List<IThreadPoolWorkItem> _loops = [];
    private bool _open;

    /// <summary>Opens a batch on this thread (or joins the one already open); disposing the scope queues what it gathered.</summary>
    public static Scope Begin()
    {
        var batch = t_batch ??= new WorkItemBatch();
        if (batch._open)
        {
            return default;
        }

        batch._open = true;
        return new Scope(batch);
    }

    /// <summary>Adds <paramref name="loop"/> (a work item that returns soon: it must not block its thread) to the batch
    /// open on this thread; false when none is (queue it yourself).</summary>
    public static bool TryAdd(IThreadPoolWorkItem loop)
    {
        if (t_batch is not { _open: true } batch)
        {
            return false;
        }

        batch._loops.Add(loop);
        return true;
    }

    /// <summary>Queues the gathered loops: one alone as itself, more in up to <see cref="Environment.ProcessorCount"/> slices.</summary>
    private void Close()
    {
        _open = false;
        var count = _loops.Count;
        if (count == 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_loops[0], preferLocal: false);
        }
        else if (count > 1)
        {
            var run = _loops.ToArray();
            var slices = Math.Clamp(count / MinPerItem, 1, Environment.ProcessorCount);
            for (var s = 0; s < slices; s++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(new Slice(run, (int)((long)count * s / slices), (int)((long)count * (s + 1) / slices)), preferLocal: false);
            }
        }

        _loops.Clear();
    }

    /// <summary>One work item of a batch: runs its loops one after another.</summary>
    private sealed class Slice(IThreadPoolWorkItem[] run, int start, int end) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            for (var i = start; i < end; i++)
            {
                run[i].Execute(); // A consumer's loop catches what its handlers throw.
            }
        }
    }

    /// <summary>The open batch, closed (and queued) on dispose; a joined one does nothing.</summary>
    public readonly struct Scope(WorkItemBatch? batch) : IDisposable
    {
        public void Dispose() => batch?.Close();
    }
}
