using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Channels.Net.Layers;
using Channels.Net.Routing;
using Channels.Net.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>HTTP consumers behind a ProtocolTypeRouter passed to MapChannels, over Kestrel.</summary>
public sealed class HttpConsumerTests
{
    private static ProtocolTypeRouter Router() => new()
    {
        ["http"] = new UrlRouter(
            Path("hello/<str:name>/", Consumer<HelloHttpConsumer>()),
            Path("echo/", Consumer<BodyEchoHttpConsumer>()),
            Path("news/", Consumer<NewsStreamConsumer>()),
            Path("fail/", Consumer<FailingHttpConsumer>())),
        ["websocket"] = new UrlRouter(Path("ws/echo/", Consumer<EchoConsumer>())),
    };

    private static Task<KestrelHost> StartAsync(IChannelApplication? application = null, long? kestrelBodyLimit = null) => KestrelHost.StartAsync(
        app =>
        {
            app.MapChannels(application ?? Router());
            app.MapGet("/api/ping", () => "pong");
        },
        configure: builder => builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = kestrelBodyLimit ?? k.Limits.MaxRequestBodySize));

    private static HttpClient Client(KestrelHost host) => new() { BaseAddress = host.HttpUri, Timeout = Limits.Step };

    [Fact]
    public async Task A_consumer_sends_a_whole_response_with_status_headers_and_body()
    {
        await using var host = await StartAsync();
        using var http = Client(host);

        using var response = await http.GetAsync("hello/wörld/").Within();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(["hello"], response.Headers.GetValues("x-consumer"));
        Assert.Equal(["1", "2"], response.Headers.GetValues("x-multi"));
        Assert.Equal("hello wörld via GET http", await response.Content.ReadAsStringAsync().Within());
    }

    [Fact]
    public async Task A_request_body_is_echoed_back()
    {
        await using var host = await StartAsync();
        using var http = Client(host);
        var body = new byte[100_000];
        Random.Shared.NextBytes(body);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-test");

        using var response = await http.PostAsync("echo/", content).Within();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-test", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["100000"], response.Headers.GetValues("x-length"));
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync().Within());
    }

    [Fact]
    public async Task A_chunked_request_body_is_read_whole()
    {
        await using var host = await StartAsync();
        using var http = Client(host);
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("chunked body")));
        content.Headers.ContentLength = null;

        using var response = await http.PostAsync("echo/", content).Within();

        Assert.Equal("chunked body", await response.Content.ReadAsStringAsync().Within());
    }

    [Fact]
    public async Task A_request_body_over_the_limit_is_refused_with_500_and_the_server_goes_on()
    {
        await using var host = await StartAsync();
        using var http = Client(host);

        // The consumers' decided behaviour (HttpCommunicatorTests): a body over 1 MiB fails the consumer, 500.
        using var response = await http.PostAsync("echo/", new ByteArrayContent(new byte[(1 << 20) + 1])).Within();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("http-disconnect", await host.Probe.WaitForAsync("http-disconnect"));
        Assert.DoesNotContain(host.Probe.Events, e => e.StartsWith("body:", StringComparison.Ordinal));
        using var small = await http.PostAsync("echo/", new StringContent("fits")).Within();
        Assert.Equal("fits", await small.Content.ReadAsStringAsync().Within());
    }

    [Fact]
    public async Task A_body_over_kestrels_own_limit_gets_kestrels_413()
    {
        await using var host = await StartAsync(kestrelBodyLimit: 100);
        using var http = Client(host);

        using var response = await http.PostAsync("echo/", new ByteArrayContent(new byte[101])).Within();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("http-disconnect", await host.Probe.WaitForAsync("http-disconnect"));
        using var small = await http.PostAsync("echo/", new ByteArrayContent(new byte[100])).Within();
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task Server_sent_events_stream_group_messages_to_the_client_as_they_come()
    {
        await using var host = await StartAsync();
        using var http = Client(host);

        using var response = await http.GetAsync("news/", HttpCompletionOption.ResponseHeadersRead).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync().Within();
        using var reader = new StreamReader(stream);
        Assert.Equal(": stream open", await reader.ReadLineAsync().Within());
        Assert.Equal("", await reader.ReadLineAsync().Within());

        await host.Layer.GroupSendAsync("news", new { type = "news.item", text = "first" }).Within();
        Assert.Equal("data: first", await reader.ReadLineAsync().Within());
        Assert.Equal("", await reader.ReadLineAsync().Within());

        await host.Layer.GroupSendAsync("news", new { type = "news.item", text = "second" }).Within();
        Assert.Equal("data: second", await reader.ReadLineAsync().Within());
        Assert.Equal("", await reader.ReadLineAsync().Within());

        await host.Layer.GroupSendAsync("news", new { type = "news.end" }).Within();
        Assert.Equal("event: end\ndata: bye\n\n", await reader.ReadToEndAsync().Within());
        await host.Probe.WaitForAsync("http-disconnect");
        await Task.Delay(200);
        Assert.Equal(["http-disconnect"], host.Probe.Events);
    }

    [Fact]
    public async Task A_handler_failing_mid_stream_aborts_the_response_so_it_cannot_pass_for_complete()
    {
        await using var host = await StartAsync();
        using var http = Client(host);
        using var response = await http.GetAsync("news/", HttpCompletionOption.ResponseHeadersRead).Within();
        await using var stream = await response.Content.ReadAsStreamAsync().Within();
        using var reader = new StreamReader(stream);
        Assert.Equal(": stream open", await reader.ReadLineAsync().Within());

        await host.Layer.GroupSendAsync("news", new { type = "news.crash" }).Within();

        await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadToEndAsync().Within());
        await host.Probe.WaitForAsync("http-disconnect");
    }

    [Fact]
    public async Task A_client_that_leaves_a_stream_ends_the_consumer_and_disconnect_runs_once()
    {
        await using var host = await StartAsync();
        using (var http = Client(host))
        {
            using var response = await http.GetAsync("news/", HttpCompletionOption.ResponseHeadersRead).Within();
            var stream = await response.Content.ReadAsStreamAsync().Within();
            using var reader = new StreamReader(stream);
            Assert.Equal(": stream open", await reader.ReadLineAsync().Within());
        }

        // The HttpClient is gone; the consumer learns of it and leaves the group.
        await host.Probe.WaitForAsync("http-disconnect");
        var probe = await host.Layer.NewChannelAsync().Within();
        await host.Layer.GroupAddAsync("news", probe).Within();
        await host.Layer.GroupSendAsync("news", new { type = "news.item", text = "nobody else" }).Within();
        Assert.Equal("nobody else", (await host.Layer.ReceiveAsync(probe).Within()).GetString("text"));
        Assert.Equal(["http-disconnect"], host.Probe.Events);
    }

    [Fact]
    public async Task Stopping_the_server_ends_an_open_stream_and_runs_disconnect()
    {
        var host = await StartAsync();
        var probe = host.Probe;
        using var http = Client(host);
        using var response = await http.GetAsync("news/", HttpCompletionOption.ResponseHeadersRead).Within();
        var stopped = System.Diagnostics.Stopwatch.StartNew();

        await host.DisposeAsync();

        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2.5), $"Stopping took {stopped.Elapsed}");
        Assert.Equal(["http-disconnect"], probe.Events);
    }

    [Fact]
    public async Task Http_requests_without_a_route_fall_through_to_the_rest_of_the_pipeline()
    {
        await using var host = await StartAsync();
        using var http = Client(host);

        Assert.Equal("pong", await http.GetStringAsync("api/ping").Within());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("no/such/route/").Within()).StatusCode);
    }

    [Fact]
    public async Task A_scope_type_router_of_the_applications_own_gets_http_requests_through_IScopeTypeRouter()
    {
        await using var host = await StartAsync(new HttpOnlyRouter(new UrlRouter(Path("hello/<str:name>/", Consumer<HelloHttpConsumer>()))));
        using var http = Client(host);

        using var response = await http.GetAsync("hello/you/").Within();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("hello you via GET http", await response.Content.ReadAsStringAsync().Within());
        Assert.Equal("pong", await http.GetStringAsync("api/ping").Within());
    }

    [Fact]
    public async Task The_websocket_side_of_the_same_router_still_serves_websockets()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/echo/"));

        await client.SendAsync("both");

        Assert.Equal("both", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_protocol_type_router_under_a_middleware_still_serves_http()
    {
        await using var host = await StartAsync(new OriginValidator(Router(), ["http://allowed.example"]));
        using var http = Client(host);

        Assert.Equal("hello x via GET http", await http.GetStringAsync("hello/x/").Within());
    }

    [Fact]
    public async Task A_handler_that_throws_answers_500_and_disconnect_runs_once()
    {
        await using var host = await StartAsync();
        using var http = Client(host);

        using var response = await http.GetAsync("fail/").Within();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("Internal server error", await response.Content.ReadAsStringAsync().Within());
        await host.Probe.WaitForAsync("http-disconnect");
        await Task.Delay(200);
        Assert.Equal(["http-disconnect"], host.Probe.Events);
        Assert.Contains(host.Logs.Entries, e => e.Exception?.Message == "the http handler failed on purpose");
    }

    [Fact]
    public async Task A_client_that_leaves_during_the_request_body_ends_the_consumer_and_disconnect_runs_once()
    {
        await using var host = await StartAsync();
        using var http = Client(host);
        using var cancel = new CancellationTokenSource();
        var content = new SlowContent(cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.PostAsync("echo/", content, cancel.Token).Within());

        await host.Probe.WaitForAsync("http-disconnect");
        await Task.Delay(200);
        Assert.Equal(["http-disconnect"], host.Probe.Events);
    }

    /// <summary>Sends a little of a chunked body, then cancels the request instead of finishing it.</summary>
    private sealed class SlowContent(CancellationTokenSource cancel) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync("partial body"u8.ToArray());
            await stream.FlushAsync();
            await Task.Delay(300);
            await cancel.CancelAsync();
            await Task.Delay(Timeout.Infinite, cancel.Token);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

/// <summary>A scope-type router of an application's own: HTTP scopes only.</summary>
internal sealed class HttpOnlyRouter(IChannelApplication http) : IScopeTypeRouter
{
    public IEnumerable<IChannelApplication> Applications => [http];

    public bool Serves(string scopeType) => scopeType == ChannelScopeType.Http;

    public ValueTask RunAsync(ChannelScope scope, IChannelSession session) => http.RunAsync(scope, session);
}
