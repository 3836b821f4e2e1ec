using System.Collections.Concurrent;

namespace Channels.Net.Redis.Receiving;

/// <summary>
/// Runs an async loop on a thread of its own: the loop's awaits (with <c>ConfigureAwait(true)</c>) come back to that
/// thread through this <see cref="SynchronizationContext"/>, not through the thread pool. The receive pump pops this
/// way: under a burst the pool is busy with consumers' work, and a pop that waited its turn there let the process's
/// key in Redis (capacity 100, as channels_redis decides it) fill and the senders skip every local member.
/// </summary>
internal sealed class PumpThread : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _work = [];

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
        try
        {
            _work.Add((d, state));
        }
        catch (InvalidOperationException)
        {
            // The loop has ended: nothing of it is left to run (a late timer or cancellation callback).
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

        task.ContinueWith(static (_, work) => ((BlockingCollection<(SendOrPostCallback, object?)>)work!).CompleteAdding(), _work, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        foreach (var (callback, state) in _work.GetConsumingEnumerable())
        {
            callback(state);
        }

        _work.Dispose();
        done.SetFromTask(task);
    }
}
