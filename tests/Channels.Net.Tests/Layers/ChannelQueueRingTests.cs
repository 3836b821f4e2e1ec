using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Channels.Net.Tests.Layers;

/// <summary>A channel's ring of waiting messages is made only when a message has to wait, and a large one that
/// stays empty from one sweep to the next is let go.</summary>
public sealed class ChannelQueueRingTests
{
    private static readonly ChannelMessage Message = ChannelMessage.Create("test.message");

    [Fact]
    public async Task A_channel_whose_receiver_is_waiting_never_makes_a_ring()
    {
        var queue = new ChannelQueue("specific.x!y", capacity: 100);
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(queue.TryDequeueOrWait(0, static q => new ReceiveWaiter(q), receiver: null, out var waiter, out _, out _));
            Assert.Equal(EnqueueResult.Delivered, queue.TryEnqueue(Message, 0, long.MaxValue, out _));
            Assert.Same(Message, await waiter!.Task);
        }

        Assert.Equal(0, queue.RingLength);
    }

    [Fact]
    public void The_ring_starts_at_two_entries_and_grows_to_the_backlog()
    {
        var queue = new ChannelQueue("backlog", capacity: 100);
        Assert.Equal(EnqueueResult.Queued, queue.TryEnqueue(Message, 0, long.MaxValue, out _));
        Assert.Equal(2, queue.RingLength);

        for (var i = 1; i < 40; i++)
        {
            Assert.Equal(EnqueueResult.Queued, queue.TryEnqueue(Message, 0, long.MaxValue, out _));
        }

        Assert.Equal(40, queue.Count);
        Assert.True(queue.RingLength >= 40);
    }

    [Fact]
    public void A_large_empty_ring_is_let_go_after_two_sweeps_without_use_and_kept_while_used()
    {
        var queue = new ChannelQueue("backlog", capacity: 100);
        Fill(queue, 40);
        Drain(queue, 40);
        var ring = queue.RingLength;
        Assert.True(ring > 16);

        queue.ReleaseIdleRing();
        Assert.Equal(ring, queue.RingLength); // Empty at one sweep: kept, a burst may follow.
        Fill(queue, 1);
        Drain(queue, 1);
        queue.ReleaseIdleRing();
        Assert.Equal(ring, queue.RingLength); // Used since the last sweep: kept.
        queue.ReleaseIdleRing();
        Assert.Equal(0, queue.RingLength); // Empty and unused from one sweep to the next: let go.

        Fill(queue, 3);
        Assert.Equal(3, queue.Count);
        Drain(queue, 3);
    }

    [Fact]
    public void A_small_ring_or_one_holding_messages_is_kept()
    {
        var small = new ChannelQueue("small", capacity: 100);
        Fill(small, 4);
        Drain(small, 4);
        small.ReleaseIdleRing();
        small.ReleaseIdleRing();
        Assert.Equal(4, small.RingLength);

        var busy = new ChannelQueue("busy", capacity: 100);
        Fill(busy, 40);
        busy.ReleaseIdleRing();
        busy.ReleaseIdleRing();
        Assert.Equal(40, busy.Count);
        Drain(busy, 40);
    }

    private static void Fill(ChannelQueue queue, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(EnqueueResult.Queued, queue.TryEnqueue(Message, 0, long.MaxValue, out _));
        }
    }

    private static void Drain(ChannelQueue queue, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Same(Message, queue.TryDequeueOrWait(0, static q => new ReceiveWaiter(q), receiver: null, out _, out _, out _));
        }
    }
}
