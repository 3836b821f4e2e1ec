using System.Net.WebSockets;
using Channels.Net.Interop.Tests.Infrastructure;

namespace Channels.Net.Interop.Tests;

/// <summary>
/// Flow control across processes (docs/flow-control.md): a burst into one room shared through Redis reaches every
/// client, on the default settings (capacity 100) — two sample chats sharing the room, and the sample chat sharing it
/// with the tutorial's Django chat under daphne.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class ChatBurstTests(InteropEnvironment env)
{
    private static readonly TimeSpan Overall = TimeSpan.FromSeconds(90);

    public static TheoryData<bool> Layers => [false, true];

    [Theory]
    [MemberData(nameof(Layers))]
    public async Task A_burst_into_a_room_shared_by_two_dotnet_servers_reaches_every_client(bool pubSub)
    {
        // 60 clients split over two servers; 10 of them (5 on each) send 200 messages as fast as they can:
        // 2,000 group sends, 120,000 deliveries, 20x the capacity of every channel and of each process's key.
        const int clients = 60, senders = 10, perSender = 200;
        var layer = new ChatLayer(env.Redis.Url, InteropEnvironment.NewPrefix(), PubSub: pubSub);
        await using var first = await DotNetChatServer.StartAsync(layer);
        await using var second = await DotNetChatServer.StartAsync(layer);
        await RunBurstAsync([first, second], clients, senders, perSender, senderServers: null);
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public async Task A_burst_into_a_room_shared_with_a_django_server_reaches_every_client(bool pubSub)
    {
        // 20 .NET clients and 10 Django clients; 8 .NET senders and 2 Django senders, 10 messages each: 100 group sends
        // as fast as they go, all that channels_redis's default capacity lets one process's key hold before its
        // (one-at-a-time) receive pops them. Every client of both servers must get all 100.
        var layer = new ChatLayer(env.Redis.Url, InteropEnvironment.NewPrefix(), PubSub: pubSub);
        var (dotNet, daphne) = await ChatPair.StartAsync(layer);
        await using (dotNet)
        await using (daphne)
        {
            try
            {
                await RunBurstAsync([dotNet, daphne], clients: 30, senders: 10, perSender: 10, senderServers: i => i < 8 ? dotNet : daphne, clientsOf: s => s == dotNet ? 20 : 10);
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"The burst failed; daphne's output:{Environment.NewLine}{daphne.Output}", ex);
            }
        }
    }

    /// <summary>Opens the room's clients (alternating over <paramref name="servers"/> unless <paramref name="clientsOf"/>
    /// says how many each), lets <paramref name="senders"/> of them send "sender:n" as fast as they can, and checks that
    /// every client got every message exactly once, in order per sender.</summary>
    private static async Task RunBurstAsync(
        IChatServer[] servers, int clients, int senders, int perSender, Func<int, IChatServer>? senderServers, Func<IChatServer, int>? clientsOf = null)
    {
        var room = "burst-" + Guid.NewGuid().ToString("N")[..8];
        var sockets = new List<(IChatServer Server, ClientWebSocket Socket)>();
        try
        {
            foreach (var server in servers)
            {
                var count = clientsOf?.Invoke(server) ?? clients / servers.Length;
                for (var i = 0; i < count; i++)
                {
                    sockets.Add((server, await server.ConnectAsync(room)));
                }
            }

            // Every client is in the room once a message sent now reaches all of them.
            await sockets[0].Socket.SendTextAsync("ready");
            foreach (var (_, socket) in sockets)
            {
                Assert.Equal("ready", await socket.ReceiveTextAsync());
            }

            var expected = senders * perSender;
            var reading = sockets.Select(s => Task.Run(() => ReadAsync(s.Socket, expected))).ToArray();
            var senderSockets = new List<ClientWebSocket>();
            for (var i = 0; i < senders; i++)
            {
                var server = senderServers?.Invoke(i) ?? servers[i % servers.Length];
                senderSockets.Add(sockets.First(s => s.Server == server && !senderSockets.Contains(s.Socket)).Socket);
            }

            await Task.WhenAll(senderSockets.Select((socket, sender) => Task.Run(async () =>
            {
                for (var n = 0; n < perSender; n++)
                {
                    await socket.SendTextAsync($"{sender}:{n}");
                }
            })));

            var received = await Task.WhenAll(reading).WaitAsync(Overall);
            for (var i = 0; i < received.Length; i++)
            {
                Assert.True(received[i].Count == expected, $"Client {i} ({sockets[i].Server.Name}) got {received[i].Count} of {expected}; counts: {string.Join(",", received.Select(r => r.Count))}");
                var next = new int[senders];
                foreach (var message in received[i])
                {
                    var parts = message.Split(':');
                    var sender = int.Parse(parts[0]);
                    Assert.Equal(next[sender], int.Parse(parts[1]));
                    next[sender]++;
                }
            }
        }
        finally
        {
            foreach (var (_, socket) in sockets)
            {
                await socket.CloseQuietlyAsync();
            }
        }
    }

    /// <summary>Reads <paramref name="count"/> messages, or what came until nothing came for the receive timeout.</summary>
    private static async Task<List<string>> ReadAsync(ClientWebSocket socket, int count)
    {
        var messages = new List<string>(count);
        try
        {
            while (messages.Count < count)
            {
                messages.Add(await socket.ReceiveTextAsync());
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or WebSocketException)
        {
            // Short: the count check says how many were missing.
        }

        return messages;
    }
}
