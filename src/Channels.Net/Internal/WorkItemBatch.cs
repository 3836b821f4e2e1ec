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
internal sealed class WorkItemBatch : IThreadPoolWorkItem
{
    /// <summary>The fewest loops a work item of a batch runs (smaller batches are not split further).</summary>
    public const int MinPerItem = 16;

    [ThreadStatic]
    private static WorkItemBatch? t_open;

    [ThreadStatic]
    private static WorkItemBatch? t_spare;

    private readonly List<IThreadPoolWorkItem> _loops = [];
    private IThreadPoolWorkItem[]? _run;
    private int _start;
    private int _end;

    /// <summary>Opens a batch on this thread (or joins the one already open); disposing the scope queues what it gathered.</summary>
    public static Scope Begin()
    {
        if (t_open is not null)
        {
            return default;
        }

        var batch = t_spare ?? new WorkItemBatch();
        t_spare = null;
        t_open = batch;
        return new Scope(batch);
    }

    /// <summary>Adds <paramref name="loop"/> (a work item that returns soon: it must not block its thread) to the batch
    /// open on this thread; false when none is (queue it yourself).</summary>
    public static bool TryAdd(IThreadPoolWorkItem loop)
    {
        if (t_open is not { } batch)
        {
            return false;
        }

        batch._loops.Add(loop);
        return true;
    }

    /// <summary>Runs the loops of one slice, one after another.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        var run = _run!;
        for (var i = _start; i < _end; i++)
        {
            run[i].Execute(); // A consumer's loop catches what its handlers throw.
        }
    }

    /// <summary>Queues the gathered loops: one alone as itself, more in up to <see cref="Environment.ProcessorCount"/> slices.</summary>
    private void Close()
    {
        t_open = null;
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
                var slice = new WorkItemBatch { _run = run, _start = (int)((long)count * s / slices), _end = (int)((long)count * (s + 1) / slices) };
                ThreadPool.UnsafeQueueUserWorkItem(slice, preferLocal: false);
            }
        }

        _loops.Clear();
        t_spare = this;
    }

    /// <summary>The open batch, closed (and queued) on dispose; a joined one does nothing.</summary>
    public readonly struct Scope(WorkItemBatch? batch) : IDisposable
    {
        public void Dispose() => batch?.Close();
    }
}
