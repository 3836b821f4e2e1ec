using System.Net.WebSockets;
using Channels.Net.Hosting.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// The stream under a served WebSocket frames the outbox's messages itself, exactly as the WebSocket would, and holds
/// them back while more follow, so a burst leaves in few socket writes; every byte keeps its order, the WebSocket's own
/// frames (close, ping, pong) are never held, and no message follows a close frame.
/// </summary>
public sealed class CoalescingStreamTests
{
    [Fact]
    public async Task Held_messages_leave_with_the_next_one_written_without_holding_in_one_inner_write()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);

        await WriteTextAsync(stream, "ab", hold: true);
        await WriteTextAsync(stream, "cd", hold: true);
        Assert.Empty(inner.Writes);

        await WriteTextAsync(stream, "ef", hold: false);

        Assert.Equal([Show(Text("ab"), Text("cd"), Text("ef"))], inner.Writes);
    }

    [Fact]
    public async Task Messages_written_without_holding_go_through_one_by_one()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);

        await WriteTextAsync(stream, "ab", hold: false);
        await WriteTextAsync(stream, "cd", hold: false);

        Assert.Equal([Show(Text("ab")), Show(Text("cd"))], inner.Writes);
    }

    [Theory]
    [InlineData(0, WebSocketMessageType.Text)]
    [InlineData(5, WebSocketMessageType.Text)]
    [InlineData(125, WebSocketMessageType.Binary)]
    [InlineData(126, WebSocketMessageType.Text)]
    [InlineData(65_535, WebSocketMessageType.Binary)]
    [InlineData(65_536, WebSocketMessageType.Text)]
    [InlineData(200_000, WebSocketMessageType.Binary)]
    public async Task A_message_is_framed_byte_for_byte_as_the_runtimes_WebSocket_frames_it(int length, WebSocketMessageType type)
    {
        var payload = new byte[length];
        Random.Shared.NextBytes(payload);
        var text = type == WebSocketMessageType.Text ? new string('\u00e9', length / 2) + new string('x', length % 2) : null;
        var bytes = text is null ? payload : System.Text.Encoding.UTF8.GetBytes(text);

        var expected = new RecordingStream();
        using var reference = WebSocket.CreateFromStream(expected, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        await reference.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);

        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await stream.WriteMessageAsync(type, text, text is null ? bytes : default, bytes.Length, hold: false, CancellationToken.None);

        Assert.Equal(string.Concat(expected.Writes), string.Concat(inner.Writes));
    }

    [Theory]
    [InlineData(0x88)] // close
    [InlineData(0x89)] // ping
    [InlineData(0x8A)] // pong
    public async Task A_frame_the_WebSocket_writes_is_never_held_and_leaves_after_what_was(int opcodeByte)
    {
        // A close frame written while the outbox still holds messages back (its queue was dropped) must still leave.
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await WriteTextAsync(stream, "ab", hold: true);

        byte[] control = [(byte)opcodeByte, 0x00];
        await stream.WriteAsync(control);

        Assert.Equal([Show(Text("ab"), control)], inner.Writes);
    }

    [Fact]
    public async Task No_message_follows_the_close_frame()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await stream.WriteAsync(new byte[] { 0x88, 0x02, 0x03, 0xE8 }); // close 1000

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => WriteTextAsync(stream, "late", hold: false).AsTask());

        Assert.Equal(WebSocketError.InvalidState, refused.WebSocketErrorCode);
        Assert.Equal(["880203E8"], inner.Writes);
        await stream.WriteAsync(new byte[] { 0x8A, 0x00 }); // the WebSocket's own frames still go (a pong)
        Assert.Equal(2, inner.Writes.Count);
    }

    [Fact]
    public async Task A_frame_written_while_a_write_waits_on_the_socket_goes_after_it()
    {
        var inner = new RecordingStream { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var stream = new CoalescingStream(inner);

        var first = WriteTextAsync(stream, "ab", hold: false).AsTask(); // waits on the socket
        var pong = stream.WriteAsync(new byte[] { 0x8A, 0x00 }).AsTask();
        var second = WriteTextAsync(stream, "cd", hold: false).AsTask();
        await Task.Delay(50);
        Assert.False(pong.IsCompleted || second.IsCompleted);

        inner.Gate.SetResult();
        await Task.WhenAll(first, pong, second).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([Show(Text("ab")), "8A00", Show(Text("cd"))], inner.Writes);
    }

    [Fact]
    public async Task A_write_the_inner_stream_refuses_at_once_fails_and_does_not_keep_the_write_lock()
    {
        var inner = new RecordingStream { ThrowOnWrite = new ObjectDisposedException("upgraded stream") };
        var stream = new CoalescingStream(inner);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => WriteTextAsync(stream, "ab", hold: false).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.WriteAsync(new byte[] { 0x88, 0x00 }).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        inner.ThrowOnWrite = null;
        await stream.WriteAsync(new byte[] { 0x8A, 0x00 }).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // the lock is free
        Assert.Equal(["8A00"], inner.Writes);
    }

    [Fact]
    public async Task No_more_than_the_limit_is_held_and_order_is_kept_past_it()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        var messages = Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), (CoalescingStream.MaxHeldBytes / 2) - 10)).ToList();

        foreach (var message in messages)
        {
            await WriteTextAsync(stream, message, hold: true);
        }

        await stream.FlushAsync();

        Assert.All(inner.Writes, w => Assert.True(w.Length / 2 <= CoalescingStream.MaxHeldBytes, $"a write of {w.Length / 2} bytes")); // hex: 2 characters a byte
        Assert.Equal(2, inner.Writes.Count); // two messages fit under the limit: the third starts the next write
        Assert.Equal(Show([.. messages.Select(Text)]), string.Concat(inner.Writes));
    }

    [Fact]
    public async Task A_message_bigger_than_the_limit_follows_what_was_held()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await WriteTextAsync(stream, "ab", hold: true);

        var big = new string('z', CoalescingStream.MaxHeldBytes + 10);
        await WriteTextAsync(stream, big, hold: true);

        Assert.Equal([Show(Text("ab")), Show(Text(big))], inner.Writes);
    }

    [Fact]
    public async Task Flush_sends_what_is_held_then_flushes_the_inner_stream()
    {
        var inner = new RecordingStream();
        var stream = new CoalescingStream(inner);
        await stream.FlushAsync();
        Assert.Empty(inner.Writes);

        await WriteTextAsync(stream, "x", hold: true);
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

    private static ValueTask WriteTextAsync(CoalescingStream stream, string text, bool hold) =>
        stream.WriteMessageAsync(WebSocketMessageType.Text, text, default, System.Text.Encoding.UTF8.GetByteCount(text), hold, CancellationToken.None);

    /// <summary>A final text frame of ASCII <paramref name="text"/> as RFC 6455 lays it out (unmasked).</summary>
    private static byte[] Text(string text)
    {
        var header = CoalescingStream.HeaderLength(text.Length);
        var frame = new byte[header + text.Length];
        CoalescingStream.WriteHeader(frame, WebSocketMessageType.Text, text.Length);
        System.Text.Encoding.ASCII.GetBytes(text, frame.AsSpan(header));
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

        /// <summary>When set, every write waits for it (a socket that does not take bytes yet).</summary>
        public TaskCompletionSource? Gate { get; init; }

        /// <summary>When set, every write throws it at once (not from a returned task), as a disposed stream may.</summary>
        public Exception? ThrowOnWrite { get; set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (ThrowOnWrite is { } exception)
            {
                throw exception;
            }

            Writes.Add(Convert.ToHexString(buffer.Span)); // Copied now: the caller may reuse the memory once done.
            return Gate is { Task.IsCompleted: false } gate ? new ValueTask(gate.Task) : ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
            app.MapChannels(new Channels.Net.Routing.UrlRouter(Channels.Net.Routing.Routes.Path("ws/echo/", Channels.Net.Consumers.ConsumerApplications.Consumer<EchoConsumer>())));
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
