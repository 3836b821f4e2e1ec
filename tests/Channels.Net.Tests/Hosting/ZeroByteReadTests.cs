using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// AspNetWebSocketSession waits for the next message with <c>ReceiveAsync(Memory&lt;byte&gt;.Empty)</c> so an
/// idle connection holds no buffer. These tests check that on Kestrel's own WebSocket, without Channels.
/// </summary>
public sealed class ZeroByteReadTests
{
    [Fact]
    public async Task A_zero_byte_read_waits_for_a_frame_and_consumes_none_of_its_payload()
    {
        var results = new List<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await KestrelHost.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Map("/raw", async (HttpContext context) =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                try
                {
                    // 1. Idle: the zero-byte read must not complete before the client sends.
                    var probe = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
                    var early = await Task.WhenAny(probe, Task.Delay(500)) == probe;
                    results.Add($"completed-while-idle:{early}");
                    await socket.SendAsync("go"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

                    // 2. It returns once a frame arrived: count 0, the message type, not the end.
                    var first = await probe.WaitAsync(Limits.Step);
                    results.Add($"probe:{first.Count}:{first.MessageType}:{first.EndOfMessage}");

                    // 3. The whole payload is still there for the next read.
                    var buffer = new byte[64];
                    var read = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Limits.Step);
                    results.Add($"read:{Encoding.UTF8.GetString(buffer, 0, read.Count)}:{read.EndOfMessage}");

                    // 4. An empty message: the zero-byte read reports all of it (end of message).
                    var empty = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Limits.Step);
                    results.Add($"empty:{empty.Count}:{empty.MessageType}:{empty.EndOfMessage}");

                    // 5. A fragmented binary message: probe, then each fragment.
                    var fragProbe = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Limits.Step);
                    var part1 = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Limits.Step);
                    var part2 = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Limits.Step);
                    results.Add($"fragments:{fragProbe.Count}:{fragProbe.MessageType}:{part1.Count}:{part1.EndOfMessage}:{part2.Count}:{part2.EndOfMessage}");

                    // 6. The close frame.
                    var close = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Limits.Step);
                    results.Add($"close:{close.MessageType}:{(int?)socket.CloseStatus}");
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    results.Add("error:" + ex.Message);
                }
                finally
                {
                    done.TrySetResult();
                }
            });
        });
        await using var client = await WsClient.ConnectAsync(host.Ws("raw"));

        Assert.Equal("go", await client.ReceiveTextAsync());
        await client.SendAsync("hello");
        await client.SendAsync("");
        await client.SendAsync([1, 2, 3], WebSocketMessageType.Binary, endOfMessage: false);
        await client.SendAsync([4, 5], WebSocketMessageType.Binary, endOfMessage: true);
        await client.CloseAsync((WebSocketCloseStatus)4100);
        await done.Task.Within();

        Assert.Equal(
            [
                "completed-while-idle:False",
                "probe:0:Text:False",
                "read:hello:True",
                "empty:0:Text:True",
                "fragments:0:Binary:3:False:2:True",
                "close:Close:4100",
            ],
            results);
    }
}
