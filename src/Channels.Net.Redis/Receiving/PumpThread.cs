namespace Channels.Net.Redis.Receiving;

/// <summary>
/// Runs an async loop on a thread of its own: the loop's awaits (with <c>ConfigureAwait(true)</c>) come back to that
/// thread through this <see cref="SynchronizationContext"/>, not through the thread pool. The receive pump pops this
/// way: under a burst the pool is busy with consumers' work, and a pop that waited its turn there let the process's
/// key in Redis (capacity 100, as channels_redis decides it) fill and the senders skip every local member.
/// The thread sleeps in <see cref="Monitor.Wait(object)"/> between posts: a <c>BlockingCollection</c> spun in
/// <c>SemaphoreSlim.Wait</c> on every wake-up, about a tenth of a server's CPU under a burst on 2 cores.
/// </summary>
internal sealed class PumpThread : SynchronizationContext
{
    private readonly object _gate = new();

    // Guarded by _gate: posted work, taken a batch at a time (the lists are swapped, not copied).
    private List<(SendOrPostCallback Callback, object? State)> _work = [];
    private bool _ended;

    private PumpThread()
    {
    }

    /// <summary>Starts <paramref name="loop"/> on a new background thread named <paramref name="name"/>; the task
    /// completes as the loop does, and the thread ends with it.</summary>
    public static Task Run(string name, Func<Task> loop)
    {
        var context = new PumpThread();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => context.RunLoop(loop, done)) { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return; // The loop has ended: nothing of it is left to run (a late timer or cancellation callback).
            }

            _work.Add((d, state));
            if (_work.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <inheritdoc />
    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("The pump thread runs posted work only.");

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;

    private void RunLoop(Func<Task> loop, TaskCompletionSource done)
    {
        SetSynchronizationContext(this);
        Task task;
        try
        {
            task = loop();
        }
        catch (Exception ex)
        {
            task = Task.FromException(ex);
        }

        task.ContinueWith(static (_, context) => ((PumpThread)context!).End(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var batch = new List<(SendOrPostCallback Callback, object? State)>();
        while (true)
        {
            lock (_gate)
            {
                while (_work.Count == 0 && !_ended)
                {
                    Monitor.Wait(_gate);
                }

                if (_work.Count == 0)
                {
                    break;
                }

                (batch, _work) = (_work, batch);
            }

            foreach (var (callback, state) in batch)
            {
                callback(state);
            }

            batch.Clear();
        }

        done.SetFromTask(task);
    }

    /// <summary>The loop's task completed: the thread runs what was posted before, then ends.</summary>
    private void End()
    {
        lock (_gate)
        {
            _ended = true;
            Monitor.Pulse(_gate);
        }
    }
}
