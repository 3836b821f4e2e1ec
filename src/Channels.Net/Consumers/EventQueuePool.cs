namespace Channels.Net.Consumers;

/// <summary>
/// Emptied inbox queues kept for the next inbox that needs one. An inbox holds its queue only while events wait (an
/// idle connection holds none); under load its queue empties and refills all the time, and each refill made a new
/// queue and grew its array again (~20% of the bytes a Redis-layer server allocated per delivery). A few emptied
/// queues of modest size are kept here instead, shared by every inbox; beyond that they are left to the GC.
/// </summary>
internal static class EventQueuePool
{
    /// <summary>How many queues are kept (a power of two).</summary>
    private const int Slots = 32;

    /// <summary>A queue whose array grew past this many events is not kept.</summary>
    private const int MaxCapacity = 256;

    private static readonly Queue<ConsumerEvent>?[] s_slots = new Queue<ConsumerEvent>?[Slots];

    /// <summary>An empty queue: a kept one, or a new one.</summary>
    public static Queue<ConsumerEvent> Rent()
    {
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < Slots; i++)
        {
            ref var slot = ref s_slots[(start + i) & (Slots - 1)];
            if (Volatile.Read(ref slot) is not null && Interlocked.Exchange(ref slot, null) is { } queue)
            {
                return queue;
            }
        }

        return new Queue<ConsumerEvent>();
    }

    /// <summary>Keeps <paramref name="queue"/> (empty, and no longer used by its inbox) if there is a free slot.</summary>
    public static void Return(Queue<ConsumerEvent> queue)
    {
        if (queue.Count != 0 || queue.EnsureCapacity(0) > MaxCapacity)
        {
            return;
        }

        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < Slots; i++)
        {
            ref var slot = ref s_slots[(start + i) & (Slots - 1)];
            if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, queue, null) is null)
            {
                return;
            }
        }
    }
}
