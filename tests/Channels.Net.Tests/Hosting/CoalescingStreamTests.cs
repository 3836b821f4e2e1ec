using Channels.Net.Hosting.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// The stream under a served WebSocket holds data frames back while the outbox has more to write, so a burst leaves in
/// few socket writes; every byte keeps its order, control frames are never held, and nothing stays held once a write
/// is made without holding.
/// </summary>
public sealed class CoalescingStreamTests
{
    [Fact]
    public async Task Held_frames_leave_with_the_next_write_made_without_holding_in_one_inner_write()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);

        stream.HoldWrites = true;
        await stream.WriteAsync(Text("ab"));
        await stream.WriteAsync(Text("cd"));
        Assert.Empty(inner.Writes);

        stream.HoldWrites = false;
        await stream.WriteAsync(Text("ef"));

        Assert.Equal([Show(Text("ab"), Text("cd"), Text("ef"))], inner.Writes);
    }

    [Fact]
    public async Task Writes_made_without_holding_go_through_one_by_one()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);

        await stream.WriteAsync(Text("ab"));
        await stream.WriteAsync(Text("cd"));

        Assert.Equal([Show(Text("ab")), Show(Text("cd"))], inner.Writes);
    }

    [Theory]
    [InlineData(0x88)] // close
    [InlineData(0x89)] // ping
    [InlineData(0x8A)] // pong
    public async Task A_control_frame_is_never_held_and_leaves_after_what_was(int opcodeByte)
    {
        // A close frame written while the outbox still holds frames back (its queue was dropped) must still leave.
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner) { HoldWrites = true };
        await stream.WriteAsync(Text("ab"));

        byte[] control = [(byte)opcodeByte, 0x00];
        await stream.WriteAsync(control);

        Assert.Equal([Show(Text("ab"), control)], inner.Writes);
    }

    [Fact]
    public async Task No_more_than_the_limit_is_held_and_order_is_kept_past_it()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner) { HoldWrites = true };
        var frames = Enumerable.Range(0, 4).Select(i => Frame((byte)('a' + i), CoalescingStream.MaxHeldBytes / 2 + 1)).ToList();

        foreach (var frame in frames)
        {
            await stream.WriteAsync(frame);
        }

        stream.HoldWrites = false;
        await stream.FlushAsync();

        Assert.All(inner.Writes, w => Assert.True(w.Length / 2 <= CoalescingStream.MaxHeldBytes, $"a write of {w.Length / 2} bytes")); // hex: 2 characters a byte
        Assert.Equal(Show([.. frames]), string.Concat(inner.Writes));
    }

    [Fact]
    public async Task A_frame_bigger_than_the_limit_follows_what_was_held()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner) { HoldWrites = true };
        await stream.WriteAsync(Text("ab"));

        var big = Frame((byte)'z', CoalescingStream.MaxHeldBytes + 10);
        await stream.WriteAsync(big);

        Assert.Equal([Show(Text("ab")), Show(big)], inner.Writes);
    }

    [Fact]
    public async Task Flush_sends_what_is_held_then_flushes_the_inner_stream()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await stream.FlushAsync();
        Assert.Empty(inner.Writes);

        stream.HoldWrites = true;
        await stream.WriteAsync(Text("x"));
        await stream.FlushAsync();

        Assert.Equal([Show(Text("x"))], inner.Writes);
        Assert.Equal(2, inner.Flushes);
    }

    [Fact]
    public async Task Reads_reach_the_inner_stream()
    {
        var inner = new RecordingStream { ToRead = "hello"u8.ToArray() };
        var stream = new CoalescingStream(inner);
        var buffer = new byte[16];

        var read = await stream.ReadAsync(buffer);

        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        Assert.True(stream.CanRead && stream.CanWrite && !stream.CanSeek);
    }

    /// <summary>A text frame as ManagedWebSocket writes it (FIN + text opcode, unmasked, short length), in one buffer.</summary>
    private static byte[] Text(string text) => [0x81, (byte)text.Length, .. System.Text.Encoding.ASCII.GetBytes(text)];

    /// <summary>A binary frame of <paramref name="length"/> bytes in all (its header's length field is not read here).</summary>
    private static byte[] Frame(byte fill, int length)
    {
        var frame = new byte[length];
        Array.Fill(frame, fill);
        frame[0] = 0x82;
        return frame;
    }

    private static string Show(params byte[][] writes) => string.Concat(writes.Select(Convert.ToHexString));

    /// <summary>Records each write as one string (hex).</summary>
    private sealed class RecordingStream : Stream
    {
        public List<string> Writes { get; } = [];

        public int Flushes { get; private set; }

        public byte[] ToRead { get; set; } = [];

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(Convert.ToHexString(buffer.Span)); // Copied now: the caller may reuse the memory once done.
            return ValueTask.CompletedTask;
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

/// <summary>MapChannels puts the coalescing stream under every WebSocket it serves over HTTP/1.1.</summary>
public sealed class CoalescingWiringTests
{
    [Fact]
    public async Task A_websocket_served_by_MapChannels_writes_through_the_coalescing_stream()
    {
        var upgrade = new TaskCompletionSource<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await KestrelHost.StartAsync(app =>
        {
            app.Use(async (HttpContext context, RequestDelegate next) =>
            {
                await next(context);
                upgrade.TrySetResult(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>());
            });
            app.MapChannels(new Channels.Net.Routing.URLRouter(Channels.Net.Routing.Routes.Path("ws/echo/", Channels.Net.Consumers.ConsumerApplications.Consumer<EchoConsumer>())));
        });
        await using (var client = await WsClient.ConnectAsync(host.Ws("ws/echo/")))
        {
            await client.SendAsync("hello");
            Assert.Equal("hello", (await client.ReceiveAsync()).Text);
            await client.CloseAsync();
        }

        Assert.IsType<CoalescingStream>(await upgrade.Task.WaitAsync(Limits.Step));
    }
}
