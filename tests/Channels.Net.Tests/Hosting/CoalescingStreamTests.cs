using Channels.Net.Hosting.AspNetCore;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// The stream under a served WebSocket holds frames back while the outbox has more to write, so a burst leaves in
/// few socket writes; every byte keeps its order, and nothing stays held once a write is made without holding.
/// </summary>
public sealed class CoalescingStreamTests
{
    [Fact]
    public async Task Held_writes_leave_with_the_next_write_made_without_holding_in_one_inner_write()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);

        stream.HoldWrites = true;
        await stream.WriteAsync("ab"u8.ToArray());
        await stream.WriteAsync("cd"u8.ToArray());
        Assert.Empty(inner.Writes);

        stream.HoldWrites = false;
        await stream.WriteAsync("ef"u8.ToArray());

        Assert.Equal(["abcdef"], inner.Writes);
    }

    [Fact]
    public async Task Writes_made_without_holding_go_through_one_by_one()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);

        await stream.WriteAsync("ab"u8.ToArray());
        await stream.WriteAsync("cd"u8.ToArray());

        Assert.Equal(["ab", "cd"], inner.Writes);
    }

    [Fact]
    public async Task FlushHeldAsync_sends_what_is_held_and_is_harmless_when_nothing_is()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await stream.FlushHeldAsync();
        Assert.Empty(inner.Writes);

        stream.HoldWrites = true;
        await stream.WriteAsync("ab"u8.ToArray());
        await stream.FlushHeldAsync();
        await stream.FlushHeldAsync();

        Assert.Equal(["ab"], inner.Writes);
    }

    [Fact]
    public async Task No_more_than_the_limit_is_held_and_order_is_kept_past_it()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        var chunk = new byte[CoalescingStream.MaxHeldBytes / 2 + 1];
        stream.HoldWrites = true;

        for (var i = 0; i < 4; i++)
        {
            Array.Fill(chunk, (byte)('a' + i));
            await stream.WriteAsync(chunk);
        }

        await stream.FlushHeldAsync();

        Assert.All(inner.Writes, w => Assert.True(w.Length <= CoalescingStream.MaxHeldBytes, $"a write of {w.Length} bytes"));
        var all = string.Concat(inner.Writes);
        Assert.Equal(4 * chunk.Length, all.Length);
        Assert.Equal(new string('a', chunk.Length) + new string('b', chunk.Length) + new string('c', chunk.Length) + new string('d', chunk.Length), all);
    }

    [Fact]
    public async Task A_write_bigger_than_the_limit_follows_what_was_held()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        stream.HoldWrites = true;
        await stream.WriteAsync("ab"u8.ToArray());

        var big = new byte[CoalescingStream.MaxHeldBytes + 10];
        Array.Fill(big, (byte)'z');
        await stream.WriteAsync(big);

        Assert.Equal(["ab", new string('z', big.Length)], inner.Writes);
    }

    [Fact]
    public async Task Writes_from_two_writers_are_never_interleaved_or_reordered_per_writer()
    {
        // The outbox's flush may run beside the WebSocket's own writes (a ping, a close frame).
        var inner = new RecordingStream(asyncWrites: true);
        var stream = new CoalescingStream(inner);
        var first = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                stream.HoldWrites = i % 3 != 0;
                await stream.WriteAsync("a"u8.ToArray());
            }
        });
        var second = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await stream.FlushHeldAsync();
                await stream.WriteAsync("b"u8.ToArray());
            }
        });
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));
        stream.HoldWrites = false;
        await stream.FlushHeldAsync();

        var all = string.Concat(inner.Writes);
        Assert.Equal(200, all.Count(c => c == 'a'));
        Assert.Equal(200, all.Count(c => c == 'b'));
        Assert.Equal(1, inner.MaxConcurrentWrites);
    }

    [Fact]
    public async Task Reads_and_flush_reach_the_inner_stream()
    {
        var inner = new RecordingStream { ToRead = "hello"u8.ToArray() };
        var stream = new CoalescingStream(inner);
        var buffer = new byte[16];

        var read = await stream.ReadAsync(buffer);
        stream.HoldWrites = true;
        await stream.WriteAsync("x"u8.ToArray());
        await stream.FlushAsync();

        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal(["x"], inner.Writes);
        Assert.Equal(1, inner.Flushes);
        Assert.True(stream.CanRead && stream.CanWrite && !stream.CanSeek);
    }

    /// <summary>Records each write as one string (ASCII); counts writes in progress at once.</summary>
    private sealed class RecordingStream(bool asyncWrites = false) : Stream
    {
        private int _writing;

        public List<string> Writes { get; } = [];

        public int MaxConcurrentWrites { get; private set; }

        public int Flushes { get; private set; }

        public byte[] ToRead { get; set; } = [];

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var now = Interlocked.Increment(ref _writing);
            MaxConcurrentWrites = Math.Max(MaxConcurrentWrites, now);
            try
            {
                var text = System.Text.Encoding.ASCII.GetString(buffer.Span); // Copied now: the caller may reuse the memory once done.
                if (asyncWrites)
                {
                    await Task.Yield();
                }

                lock (Writes)
                {
                    Writes.Add(text);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _writing);
            }
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ToRead.CopyTo(buffer);
            return ValueTask.FromResult(ToRead.Length);
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return Task.CompletedTask;
        }

        public override void Flush() => Flushes++;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
