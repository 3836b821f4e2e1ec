using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Channels.Net.Consumers;
using Channels.Net.Diagnostics;
using Channels.Net.Hosting;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// Flow control from the layer to the socket (docs/flow-control.md), over real sockets: a burst into a room reaches
/// every client that reads on the default settings; a client that stops reading is closed with 1008 once its
/// outgoing budget stayed spent, and its room loses nothing.
/// </summary>
public sealed class FlowControlTests
{
    private static readonly TimeSpan Overall = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_burst_into_a_room_reaches_every_reading_client_on_the_default_settings()
    {
        // 60 clients, 10 of them send 200 messages each as fast as they can: 2,000 group sends, 120,000 deliveries,
        // far past the layer's default capacity (100) per channel. Nothing may be lost.
        const int clients = 60, senders = 10, perSender = 200;
        await using var host = await StartChatAsync();
        var sockets = new List<WsClient>();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                sockets.Add(await WsClient.ConnectAsync(host.Ws("ws/chat/burst/")));
                await host.Probe.WaitForAsync("joined:burst");
            }

            var readers = sockets.Select(s => ReadAllAsync(s, senders * perSender)).ToArray();
            await Task.WhenAll(sockets.Take(senders).Select((s, sender) => Task.Run(async () =>
            {
                for (var n = 0; n < perSender; n++)
                {
                    await s.SendAsync($"{sender}:{n}");
                }
            })));

            var received = await Task.WhenAll(readers).WaitAsync(Overall);
            Assert.True(received.All(m => m.Count == senders * perSender), "received: " + string.Join(",", received.Select(m => m.Count)) + "; group sends that skipped a member: " + host.Logs.Entries.Count(e => e.Message.StartsWith("group_send")));
            foreach (var messages in received)
            {
                AssertInOrderPerSender(messages, senders, perSender);
            }

            Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Warning);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_1008_and_its_room_loses_nothing()
    {
        const int readers = 4, messages = 600;
        var closed = new List<long>();
        using var listener = ListenTo("channels.websocket.slow_client.closed", closed);
        await using var host = await StartChatAsync(o =>
        {
            // The default budget (8,192 messages, 4 MiB); only the grace time is shortened, to keep the test short.
            o.SlowClientTimeout = TimeSpan.FromSeconds(1);
        });

        // The stalled client: a TCP connection with a small receive buffer that never reads after the handshake.
        await using var stalled = await RawWebSocket.ConnectAsync(host.Port, "/ws/chat/slow/", receiveBufferSize: 4096);
        Assert.Equal(101, stalled.Status);
        await host.Probe.WaitForAsync("joined:slow");
        var healthy = new List<WsClient>();
        try
        {
            for (var i = 0; i < readers; i++)
            {
                healthy.Add(await WsClient.ConnectAsync(host.Ws("ws/chat/slow/")));
                await host.Probe.WaitForAsync("joined:slow");
            }

            // 16 KiB messages: the stalled connection's socket buffers fill after a few hundred of them.
            var reading = healthy.Select(s => ReadAllAsync(s, messages)).ToArray();
            var pad = new string('x', 16 * 1024);
            for (var n = 0; n < messages; n++)
            {
                await healthy[0].SendAsync($"0:{n}:{pad}");
            }

            var all = await Task.WhenAll(reading).WaitAsync(Overall);
            Assert.True(all.All(r => r.Count == messages), "received: " + string.Join(",", all.Select(r => r.Count)) + " skips: " + host.Logs.Entries.Count(e => e.Message.StartsWith("group_send")) + " events: " + string.Join(",", host.Probe.Events) + " warnings: " + string.Join(" | ", host.Logs.Entries.Where(e => e.Level >= LogLevel.Warning && !e.Message.StartsWith("group_send")).Select(e => e.Message)));
            foreach (var received in all)
            {
                AssertInOrderPerSender(received, 1, messages);
            }

            Assert.Equal("left:slow:1008", await host.Probe.WaitForAsync("left:slow:"));
            Assert.True(await stalled.ServerClosedAsync());
            Assert.Contains(host.Logs.Entries, e => e.EventId.Id == 207 && e.Level == LogLevel.Warning && e.Message.Contains("1008"));
            Assert.NotEmpty(closed);

            // The room carries on for the others.
            await healthy[1].SendAsync("1:0");
            foreach (var socket in healthy)
            {
                Assert.Equal("1:0", await socket.ReceiveTextAsync());
            }
        }
        finally
        {
            foreach (var socket in healthy)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_that_reads_slowly_gets_what_it_read_in_order_and_does_not_hold_up_its_room()
    {
        const int messages = 600;
        await using var host = await StartChatAsync(o =>
        {
            o.SlowClientTimeout = TimeSpan.FromSeconds(1);
        });
        await using var slow = await RawWebSocket.ConnectAsync(host.Port, "/ws/chat/slowly/", receiveBufferSize: 4096);
        await host.Probe.WaitForAsync("joined:slowly");
        await using var fast = await WsClient.ConnectAsync(host.Ws("ws/chat/slowly/"));
        await host.Probe.WaitForAsync("joined:slowly");

        // The slow client reads one frame every 20 ms until the server closes it.
        var slowRead = Task.Run(async () =>
        {
            var got = new List<string>();
            try
            {
                while (true)
                {
                    var (_, opcode, payload) = await slow.ReadFrameAsync();
                    if (opcode == 0x8)
                    {
                        return (got, Close: payload.Length >= 2 ? payload[0] << 8 | payload[1] : 1005);
                    }

                    if (opcode == 0x1)
                    {
                        got.Add(System.Text.Encoding.UTF8.GetString(payload));
                    }

                    await Task.Delay(20);
                }
            }
            catch (Exception ex) when (ex is IOException or EndOfStreamException)
            {
                return (got, Close: 1006);
            }
        });

        var pad = new string('y', 16 * 1024);
        var fastRead = ReadAllAsync(fast, messages);
        for (var n = 0; n < messages; n++)
        {
            await fast.SendAsync($"0:{n}:{pad}");
        }

        var received = await fastRead.WaitAsync(Overall);
        Assert.Equal(messages, received.Count);
        AssertInOrderPerSender(received, 1, messages);

        // The slow client could not keep up within its budget: it was closed as too slow. What it read came in order.
        Assert.Equal("left:slowly:1008", await host.Probe.WaitForAsync("left:slowly:"));
        var (slowGot, _) = await slowRead.WaitAsync(Overall);
        Assert.True(slowGot.Count < messages, $"The slow client read {slowGot.Count} of {messages}.");
        var numbers = slowGot.Select(m => int.Parse(m.Split(':')[1])).ToList();
        Assert.Equal(numbers.Order(), numbers);
    }

    [Fact]
    public async Task What_a_consumer_sends_before_it_closes_reaches_the_client_before_the_close_frame()
    {
        await using var host = await KestrelHost.StartAsync(app =>
            app.MapChannels(new UrlRouter(Path("burst-then-close/", Consumer<BurstThenCloseConsumer>()))));
        await using var client = await WsClient.ConnectAsync(host.Ws("burst-then-close/"));

        for (var n = 0; n < BurstThenCloseConsumer.Count; n++)
        {
            Assert.Equal($"m{n}", await client.ReceiveTextAsync());
        }

        var close = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Close, close.Type);
        Assert.Equal(4000, close.Code);
    }

    [Theory]
    [InlineData(nameof(ChannelsOptions.MaxOutgoingMessages))]
    [InlineData(nameof(ChannelsOptions.MaxOutgoingBytes))]
    [InlineData(nameof(ChannelsOptions.SlowClientTimeout))]
    public void An_outgoing_budget_out_of_range_is_refused_naming_the_option(string option)
    {
        var options = new ChannelsOptions();
        switch (option)
        {
            case nameof(ChannelsOptions.MaxOutgoingMessages):
                options.MaxOutgoingMessages = 0;
                break;
            case nameof(ChannelsOptions.MaxOutgoingBytes):
                options.MaxOutgoingBytes = -1;
                break;
            default:
                options.SlowClientTimeout = TimeSpan.Zero;
                break;
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(option, error.ParamName);
    }

    [Fact]
    public void The_default_budget_holds_a_burst_of_thousands_and_never_closing_is_allowed()
    {
        var options = new ChannelsOptions { SlowClientTimeout = Timeout.InfiniteTimeSpan };
        options.Validate();
        Assert.Equal(8192, options.MaxOutgoingMessages);
        Assert.Equal(4L << 20, options.MaxOutgoingBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), new ChannelsOptions().SlowClientTimeout);
    }

    private static Task<KestrelHost> StartChatAsync(Action<ChannelsOptions>? options = null) =>
        KestrelHost.StartAsync(
            app => app.MapChannels(new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", Consumer<RoomChatConsumer>()))),
            options);

    /// <summary>Reads <paramref name="count"/> text messages (or until the socket closes).</summary>
    private static Task<List<string>> ReadAllAsync(WsClient socket, int count) => Task.Run(async () =>
    {
        var messages = new List<string>(count);
        try
        {
            while (messages.Count < count)
            {
                var message = await socket.ReceiveAsync();
                if (message.Type == WebSocketMessageType.Close)
                {
                    break;
                }

                messages.Add(message.Text);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Nothing came for a whole step: the caller's count check says how many were missing.
        }

        return messages;
    });

    /// <summary>Messages are "sender:n[:…]"; each sender's must come in order, each exactly once.</summary>
    private static void AssertInOrderPerSender(List<string> messages, int senders, int perSender)
    {
        var next = new int[senders];
        foreach (var message in messages)
        {
            var parts = message.Split(':');
            var sender = int.Parse(parts[0]);
            Assert.Equal(next[sender], int.Parse(parts[1]));
            next[sender]++;
        }

        Assert.All(next, n => Assert.Equal(perSender, n));
    }

    private static MeterListener ListenTo(string instrument, List<long> measurements)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == ChannelsMetrics.MeterName && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            lock (measurements)
            {
                measurements.Add(value);
            }
        });
        listener.Start();
        return listener;
    }
}

/// <summary>Sends <see cref="Count"/> messages on connect, then closes with 4000.</summary>
public sealed class BurstThenCloseConsumer : AsyncWebSocketConsumer
{
    public const int Count = 5000;

    public override async Task ConnectAsync()
    {
        await AcceptAsync();
        for (var n = 0; n < Count; n++)
        {
            await SendAsync($"m{n}");
        }

        await CloseAsync(4000);
    }
}
