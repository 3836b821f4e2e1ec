using System.Text;
using Channels.Net.Layers;
using Channels.Net.Routing;
using Channels.Net.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Testing;

public sealed class HttpCommunicatorTests
{
    [Fact]
    public async Task Get_response_returns_status_headers_and_the_whole_body()
    {
        await using var communicator = new HttpCommunicator(
            Consumer<HelloHttpConsumer>(), "get", "/hello/w%C3%B6rld/?x=1", headers: [new("User-Agent", "tests")]);

        var response = await communicator.GetResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("text/plain; charset=utf-8", response.GetHeader("Content-Type"));
        Assert.Equal("http", response.GetHeader("x-scope-type"));
        Assert.Equal("GET /hello/wörld/?x=1 from tests", response.Text);
        await communicator.WaitAsync();
    }

    [Fact]
    public async Task The_request_body_is_echoed_and_disconnect_runs_once()
    {
        var body = Encoding.UTF8.GetBytes("{\"π\": 3.14159}");
        await using var communicator = new HttpCommunicator(
            Consumer<EchoBodyHttpConsumer>(), "POST", "/echo/whole/", body, [new("content-type", "application/json")]);

        var response = await communicator.GetResponseAsync();

        Assert.Equal(201, response.Status);
        Assert.Equal("application/json", response.GetHeader("content-type"));
        Assert.Equal(body, response.Body);
        await communicator.WaitAsync();
        Assert.Equal(1, EchoBodyHttpConsumer.Disconnects["/echo/whole/"]);
    }

    [Fact]
    public async Task A_request_body_sent_in_pieces_reaches_the_consumer_whole()
    {
        await using var communicator = new HttpCommunicator(Consumer<EchoBodyHttpConsumer>(), "PUT", "/echo/pieces/");
        await communicator.SendRequestBodyAsync("ab"u8.ToArray(), moreBody: true);
        await communicator.SendRequestBodyAsync("cd"u8.ToArray(), moreBody: true);
        Assert.True(await communicator.ReceiveNothingAsync()); // The consumer waits for the whole body.
        await communicator.SendRequestBodyAsync("ef"u8.ToArray());

        var response = await communicator.GetResponseAsync();

        Assert.Equal("abcdef", response.Text);
        Assert.Equal("application/octet-stream", response.GetHeader("content-type"));
    }

    [Fact]
    public async Task The_body_parts_arrive_one_by_one_with_the_streaming_api()
    {
        await using var communicator = new HttpCommunicator(Consumer<EchoBodyHttpConsumer>(), "POST", "/echo/parts/", "1234"u8.ToArray());
        await communicator.SendRequestAsync();

        var start = await communicator.ReceiveResponseStartAsync();
        var first = await communicator.ReceiveBodyAsync();
        var last = await communicator.ReceiveBodyAsync();

        Assert.Equal((HttpOutputKind.Start, 201), (start.Kind, start.Status));
        Assert.Equal(("12", true), (first.Text, first.MoreBody));
        Assert.Equal(("34", false), (last.Text, last.MoreBody));
        await communicator.WaitAsync();
    }

    [Fact]
    public async Task A_handler_that_throws_gives_500_and_disconnect_still_runs_once()
    {
        await using var communicator = new HttpCommunicator(Consumer<FailingHttpConsumer>(), "GET", "/fails/");

        var response = await communicator.GetResponseAsync();

        Assert.Equal(500, response.Status);
        Assert.Equal("Internal server error", response.Text);
        await communicator.WaitAsync();
        Assert.Equal(1, FailingHttpConsumer.Disconnects["/fails/"]);
    }

    [Fact]
    public async Task A_generic_consumer_answers_with_raw_http_events()
    {
        await using var communicator = new HttpCommunicator(Consumer<RawHttpConsumer>(), "POST", "/raw/", "shout"u8.ToArray());

        var response = await communicator.GetResponseAsync();

        Assert.Equal((202, "SHOUT", "yes"), (response.Status, response.Text, response.GetHeader("x-raw")));
        await communicator.WaitAsync();
        Assert.Contains("/raw/", RawHttpConsumer.Disconnects);
    }

    [Fact]
    public async Task Server_sent_events_stream_group_messages_until_the_consumer_ends_the_response()
    {
        await using var services = CommunicatorServices.Create();
        var layer = services.GetRequiredService<IChannelLayer>();
        await using var communicator = new HttpCommunicator(Consumer<NewsEventsConsumer>(), "GET", "/events/?news-ends", services: services);
        await communicator.SendRequestAsync();

        var start = await communicator.ReceiveResponseStartAsync();
        Assert.Equal(200, start.Status);
        Assert.Equal("text/event-stream", start.GetHeader("content-type"));
        Assert.Equal(": connected\n\n", (await communicator.ReceiveBodyAsync()).Text);
        Assert.True(await communicator.ReceiveNothingAsync());

        await layer.GroupSendAsync("news-ends", new { type = "news.item", text = "first" });
        var first = await communicator.ReceiveBodyAsync();
        Assert.Equal(("data: first\n\n", true), (first.Text, first.MoreBody));
        Assert.True(await communicator.ReceiveNothingAsync());

        await layer.GroupSendAsync("news-ends", new { type = "news.item", text = "二つ目" });
        Assert.Equal("data: 二つ目\n\n", (await communicator.ReceiveBodyAsync()).Text);

        await layer.GroupSendAsync("news-ends", new { type = "news.end" });
        var last = await communicator.ReceiveBodyAsync();
        Assert.Equal(("event: end\ndata: bye\n\n", false), (last.Text, last.MoreBody));

        await communicator.WaitAsync();
        Assert.Equal(1, NewsEventsConsumer.Disconnects["news-ends"]);
        await AssertGroupIsEmptyAsync(layer, "news-ends");
    }

    [Fact]
    public async Task Server_sent_events_end_when_the_client_disconnects()
    {
        await using var services = CommunicatorServices.Create();
        var layer = services.GetRequiredService<IChannelLayer>();
        await using var communicator = new HttpCommunicator(Consumer<NewsEventsConsumer>(), "GET", "/events/?news-leaves", services: services);
        await communicator.SendRequestAsync();
        await communicator.ReceiveResponseStartAsync();
        await communicator.ReceiveBodyAsync();
        await layer.GroupSendAsync("news-leaves", new { type = "news.item", text = "only" });
        Assert.Equal("data: only\n\n", (await communicator.ReceiveBodyAsync()).Text);

        await communicator.DisconnectAsync();

        Assert.Equal(1, NewsEventsConsumer.Disconnects["news-leaves"]);
        await AssertGroupIsEmptyAsync(layer, "news-leaves");
        Assert.True(await communicator.ReceiveNothingAsync());
    }

    [Fact]
    public async Task A_streaming_consumer_that_fails_mid_response_aborts_it()
    {
        await using var services = CommunicatorServices.Create();
        var layer = services.GetRequiredService<IChannelLayer>();
        await using var communicator = new HttpCommunicator(Consumer<NewsEventsConsumer>(), "GET", "/events/?news-fails", services: services);
        await communicator.SendRequestAsync();
        await communicator.ReceiveResponseStartAsync();
        await communicator.ReceiveBodyAsync();

        await layer.GroupSendAsync("news-fails", new { type = "news.fail" });

        var output = await communicator.ReceiveOutputAsync();
        Assert.Equal(HttpOutputKind.Abort, output.Kind);
        await communicator.WaitAsync();
        Assert.Equal(1, NewsEventsConsumer.Disconnects["news-fails"]);
    }

    [Fact]
    public async Task A_client_that_leaves_while_sending_the_body_ends_the_consumer()
    {
        await using var communicator = new HttpCommunicator(Consumer<SilentHttpConsumer>(), "POST", "/silent/leaves-mid-body/");
        await communicator.SendRequestBodyAsync("half"u8.ToArray(), moreBody: true);

        await communicator.DisconnectAsync();

        Assert.Equal(1, SilentHttpConsumer.Disconnects["/silent/leaves-mid-body/"]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.SendRequestBodyAsync("rest"u8.ToArray()));
    }

    [Fact]
    public async Task A_request_body_over_the_limit_gives_500()
    {
        await using var communicator = new HttpCommunicator(Consumer<EchoBodyHttpConsumer>(), "POST", "/echo/too-large/");
        await communicator.SendRequestBodyAsync(new byte[1 << 20], moreBody: true);
        await communicator.SendRequestBodyAsync(new byte[1]);

        var response = await communicator.GetResponseAsync();

        Assert.Equal(500, response.Status);
        await communicator.WaitAsync();
    }

    [Fact]
    public async Task A_router_without_a_route_refuses_with_404_and_its_reason()
    {
        var router = new UrlRouter(Path("hello/", Consumer<HelloHttpConsumer>()));
        await using var communicator = new HttpCommunicator(router, "GET", "/nowhere/");
        await communicator.SendRequestAsync();

        var start = await communicator.ReceiveResponseStartAsync();
        var body = await communicator.ReceiveBodyAsync();

        Assert.Equal(404, start.Status);
        Assert.Equal("No route found for path 'nowhere/'.", start.Reason);
        Assert.Equal((0, false), (body.Body!.Length, body.MoreBody));
    }

    /// <summary>The ended consumer's channel left <paramref name="group"/>: a group send no longer reaches it.</summary>
    private static async Task AssertGroupIsEmptyAsync(IChannelLayer layer, string group)
    {
        var consumerChannel = NewsEventsConsumer.Channels[group];
        await layer.GroupSendAsync(group, new { type = "news.item", text = "after the end" });
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await layer.ReceiveAsync(consumerChannel, quiet.Token));
    }
}
