using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The floor for the memory measure: the least an ASP.NET Core app can keep per connection for a room chat — the
/// WebSocket middleware (same keep-alive as Channels.Net's defaults), a room set, a send lock per member, and a
/// buffer-less zero-byte read while idle. A message is sent to every member in turn (fine for the one broadcast
/// that checks the connections; not meant for throughput).
/// </summary>
internal static class BareWebSocketRoom
{
    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<Member, byte>> Rooms = new(StringComparer.Ordinal);

    public static string RoomPath(string room) => $"ws/raw/{room}/";

    public static void Map(WebApplication app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20), KeepAliveTimeout = TimeSpan.FromSeconds(30) });
        app.Map("/ws/raw/{room}/", ServeAsync);
    }

    private static async Task ServeAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest || context.Request.RouteValues["room"] is not string room)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var member = new Member(socket);
        var members = Rooms.GetOrAdd(room, static _ => new ConcurrentDictionary<Member, byte>());
        members.TryAdd(member, 0);
        try
        {
            while (true)
            {
                var probe = await socket.ReceiveAsync(Memory<byte>.Empty, context.RequestAborted);
                if (probe.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var count = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(count), context.RequestAborted);
                        count += result.Count;
                    }
                    while (!result.EndOfMessage && count < buffer.Length);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    foreach (var other in members.Keys)
                    {
                        await other.SendAsync(buffer.AsMemory(0, count));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client left.
        }
        finally
        {
            members.TryRemove(member, out _);
        }
    }

    private sealed class Member(WebSocket socket)
    {
        private readonly SemaphoreSlim _sendLock = new(1, 1);

        public async Task SendAsync(ReadOnlyMemory<byte> text)
        {
            await _sendLock.WaitAsync();
            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    await socket.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
                // Gone; its own loop removes it.
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
