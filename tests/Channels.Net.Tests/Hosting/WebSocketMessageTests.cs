using System.Net.WebSockets;
using System.Text;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>Messages over Kestrel: text, binary, unicode, size limit, invalid UTF-8, fragments, empty messages.</summary>
public sealed class WebSocketMessageTests
{
    private const int Limit = 64;

    private static Task<KestrelHost> StartAsync() =>
        KestrelHost.StartAsync(
            app => app.MapChannels(new UrlRouter(Path("ws/echo/", Consumer<EchoConsumer>()))),
            options => options.MaxIncomingMessageSize = Limit);

    [Fact]
    public async Task Text_and_binary_messages_echo_with_their_type()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        await client.SendAsync("hello");
        var text = await client.ReceiveAsync();
        Assert.Equal((WebSocketMessageType.Text, "hello"), (text.Type, text.Text));

        byte[] bytes = [0, 1, 2, 0xFF, 0xFE, 0x80];
        await client.SendAsync(bytes);
        var binary = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Binary, binary.Type);
        Assert.Equal(bytes, binary.Data);

        await client.CloseAsync();
        await host.Probe.WaitForAsync("disconnect:");
        Assert.Equal(["text:5", "bytes:6", "disconnect:1000"], host.Probe.Events);
    }

    [Fact]
    public async Task Unicode_text_round_trips_exactly()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));
        const string text = "héllo 世界 🎉 \u0000 ∑";

        await client.SendAsync(text);

        Assert.Equal(text, await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Empty_messages_are_delivered_and_do_not_merge_with_the_next()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        await client.SendAsync("");
        await client.SendAsync(Array.Empty<byte>());
        await client.SendAsync("after");

        var first = await client.ReceiveAsync();
        Assert.Equal((WebSocketMessageType.Text, 0), (first.Type, first.Data.Length));
        var second = await client.ReceiveAsync();
        Assert.Equal((WebSocketMessageType.Binary, 0), (second.Type, second.Data.Length));
        Assert.Equal("after", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_message_of_exactly_the_limit_passes_and_one_byte_more_closes_with_1009()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));
        var exact = new string('a', Limit);

        await client.SendAsync(exact);
        Assert.Equal(exact, await client.ReceiveTextAsync());
        var exactBytes = new byte[Limit];
        await client.SendAsync(exactBytes);
        Assert.Equal(Limit, (await client.ReceiveAsync()).Data.Length);

        await client.SendAsync(exact + "é"[0]);
        var close = await client.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, close.CloseStatus);
        await host.Probe.WaitForAsync("disconnect:");
        Assert.Equal(["text:64", "bytes:64", "disconnect:1009"], host.Probe.Events);
    }

    [Fact]
    public async Task A_fragmented_message_over_the_limit_closes_with_1009_even_when_each_fragment_is_small()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        for (var i = 0; i < 5; i++)
        {
            await client.SendAsync(new byte[20], WebSocketMessageType.Binary, endOfMessage: false);
        }

        var close = await client.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, close.CloseStatus);
        await host.Probe.WaitForAsync("disconnect:");
        Assert.Equal(["disconnect:1009"], host.Probe.Events);
    }

    [Fact]
    public async Task The_client_does_not_validate_utf8_on_send_and_invalid_utf8_closes_with_1007()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        // ClientWebSocket sends these bytes as a text frame without complaint: it validates nothing on send.
        await client.SendAsync([0x68, 0x69, 0xC3, 0x28, 0xFF], WebSocketMessageType.Text);
        var close = await client.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, close.CloseStatus);
        await host.Probe.WaitForAsync("disconnect:");
        Assert.Equal(["disconnect:1007"], host.Probe.Events);
    }

    [Fact]
    public async Task A_utf8_sequence_split_across_fragments_is_valid()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));
        var bytes = Encoding.UTF8.GetBytes("世界");

        await client.SendAsync(bytes[..2], WebSocketMessageType.Text, endOfMessage: false);
        await Task.Delay(50);
        await client.SendAsync(bytes[2..], WebSocketMessageType.Text, endOfMessage: true);

        Assert.Equal("世界", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Fragmented_messages_are_reassembled()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        await client.SendAsync(Encoding.UTF8.GetBytes("frag"), WebSocketMessageType.Text, endOfMessage: false);
        await Task.Delay(50);
        await client.SendAsync(Encoding.UTF8.GetBytes("men"), WebSocketMessageType.Text, endOfMessage: false);
        await client.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, endOfMessage: false);
        await client.SendAsync(Encoding.UTF8.GetBytes("ted"), WebSocketMessageType.Text, endOfMessage: true);
        await client.SendAsync([1, 2], WebSocketMessageType.Binary, endOfMessage: false);
        await client.SendAsync([3], WebSocketMessageType.Binary, endOfMessage: true);

        Assert.Equal("fragmented", await client.ReceiveTextAsync());
        Assert.Equal([1, 2, 3], (await client.ReceiveAsync()).Data);
        Assert.Equal(["text:10", "bytes:3"], host.Probe.Events);
    }

    [Fact]
    public async Task Many_messages_keep_their_order()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        for (var i = 0; i < 200; i++)
        {
            await client.SendAsync(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), await client.ReceiveTextAsync());
        }
    }
}
