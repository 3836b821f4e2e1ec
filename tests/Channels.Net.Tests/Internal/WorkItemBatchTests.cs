using Channels.Net.Internal;

namespace Channels.Net.Tests.Internal;

/// <summary>
/// A fan-out's wake-ups are gathered on the delivering thread and queued when the fan-out ends, as a few work items
/// that each run many; without an open batch nothing is gathered.
/// </summary>
public sealed class WorkItemBatchTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void Without_an_open_batch_nothing_is_gathered()
    {
        Assert.False(WorkItemBatch.TryAdd(new Counted(new CountdownEvent(1))));
    }

    [Fact]
    public void Gathered_items_run_once_each_and_only_after_the_batch_closes()
    {
        using var done = new CountdownEvent(100);
        var items = Enumerable.Range(0, 100).Select(_ => new Counted(done)).ToList();
        using (WorkItemBatch.Begin())
        {
            Assert.All(items, item => Assert.True(WorkItemBatch.TryAdd(item)));
            Thread.Sleep(50);
            Assert.All(items, item => Assert.Equal(0, item.Runs));
        }

        Assert.True(done.Wait(Wait));
        Assert.All(items, item => Assert.Equal(1, item.Runs));
        Assert.False(WorkItemBatch.TryAdd(new Counted(done)), "the batch stayed open after its scope");
    }

    [Fact]
    public void A_nested_Begin_joins_the_open_batch()
    {
        using var done = new CountdownEvent(3);
        var outer = new Counted(done);
        var inner = new Counted(done);
        var after = new Counted(done);
        using (WorkItemBatch.Begin())
        {
            WorkItemBatch.TryAdd(outer);
            using (WorkItemBatch.Begin())
            {
                WorkItemBatch.TryAdd(inner);
            }

            Thread.Sleep(50);
            Assert.Equal(0, inner.Runs); // Queued with the outer batch, not when the inner scope ended.
            Assert.True(WorkItemBatch.TryAdd(after), "the inner scope closed the outer batch");
        }

        Assert.True(done.Wait(Wait));
        Assert.Equal([1, 1, 1], new[] { outer.Runs, inner.Runs, after.Runs });
    }

    [Fact]
    public void A_large_batch_runs_on_no_more_work_items_than_cores()
    {
        using var done = new CountdownEvent(1_000);
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var items = Enumerable.Range(0, 1_000).Select(_ => new Counted(done, () => threads.AddOrUpdate(Environment.CurrentManagedThreadId, 1, (_, n) => n + 1))).ToList();
        using (WorkItemBatch.Begin())
        {
            items.ForEach(item => WorkItemBatch.TryAdd(item));
        }

        Assert.True(done.Wait(Wait));
        Assert.All(items, item => Assert.Equal(1, item.Runs));

        // Each work item runs its slice on one thread: at most ProcessorCount slices, so at most that many threads.
        Assert.InRange(threads.Count, 1, Environment.ProcessorCount);
    }

    private sealed class Counted(CountdownEvent done, Action? onRun = null) : IThreadPoolWorkItem
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public void Execute()
        {
            Interlocked.Increment(ref _runs);
            onRun?.Invoke();
            done.Signal();
        }
    }
}
