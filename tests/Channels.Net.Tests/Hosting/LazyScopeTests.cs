using System.Net;
using Channels.Net.Consumers;
using Channels.Net.Hosting.AspNetCore;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// The request parts of a scope (headers, cookies, user, endpoints, subprotocols, session, services) are read from
/// the request when first read: the values are those an eagerly built scope had, copies share them, a consumer
/// that never reads them does not create them, and they stay readable after the request ended.
/// </summary>
public sealed class LazyScopeTests
{
    [Fact]
    public void Each_part_read_lazily_equals_what_the_request_says()
    {
        using var services = Services();
        var http = Request(services);
        var scope = ScopeFactory.Create(http, ChannelScopeType.WebSocket, new HttpScopeParts(http, services, webSocket: true));

        // What ScopeFactory used to build eagerly, from the same request.
        var expectedHeaders = http.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), v ?? ""))).ToList();
        Assert.Equal(expectedHeaders, scope.Headers);
        Assert.Equal(["first", "second"], scope.Headers.Where(h => h.Key == "x-repeated").Select(h => h.Value));
        Assert.Equal("Value Kept", scope.GetHeader("X-MIXED-CASE"));
        Assert.Equal(new Dictionary<string, string> { ["flavour"] = "vanilla", ["size"] = "large" }, scope.Cookies);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 50123), scope.Client);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8000), scope.Server);
        Assert.Equal(["proto.one", "proto.two"], scope.Subprotocols);
        Assert.Same(http.User, scope.User);
        Assert.Null(scope.Session);
        Assert.Same(http, scope.HttpContext);
        Assert.Equal("/ws/lazy/", scope.Path);
        Assert.Equal("ws", scope.Scheme);
        Assert.Equal("GET", scope.Method);
        Assert.Equal("q=1", scope.QueryString);
    }

    [Fact]
    public void A_part_is_read_once_and_shared_by_the_copies_made_with_with()
    {
        using var services = Services();
        var http = Request(services);
        var scope = ScopeFactory.Create(http, ChannelScopeType.WebSocket, new HttpScopeParts(http, services, webSocket: true));
        var copy = scope with { PathRemaining = "lazy/" };

        Assert.Same(scope.Headers, copy.Headers);
        Assert.Same(scope.Cookies, copy.Cookies);
        Assert.Same(scope.Subprotocols, copy.Subprotocols);
        Assert.Same(copy.Client, scope.Client);
        Assert.Equal(scope, copy with { PathRemaining = scope.PathRemaining });
    }

    [Fact]
    public void A_value_set_on_a_copy_overrides_the_request_for_that_copy_only()
    {
        using var services = Services();
        var http = Request(services);
        var scope = ScopeFactory.Create(http, ChannelScopeType.WebSocket, new HttpScopeParts(http, services, webSocket: true));
        IReadOnlyList<KeyValuePair<string, string>> headers = [new("origin", "https://example.com")];

        var copy = scope with { Headers = headers, Client = null, RequestServices = services };

        Assert.Same(headers, copy.Headers);
        Assert.Null(copy.Client);
        Assert.Same(services, copy.RequestServices);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 50123), scope.Client);
        Assert.Equal("Value Kept", scope.GetHeader("x-mixed-case"));
        Assert.Equal(["proto.one", "proto.two"], copy.Subprotocols);
    }

    [Fact]
    public void The_request_services_are_created_only_when_read()
    {
        using var services = Services();
        var http = Request(services);
        var scope = ScopeFactory.Create(http, ChannelScopeType.WebSocket, new HttpScopeParts(http, services, webSocket: true));
        _ = scope.Headers;
        _ = scope.User;
        Assert.Null(http.Features.Get<IServiceProvidersFeature>());

        var counter = scope.RequestServices.GetRequiredService<ConnectionCounter>();

        Assert.NotNull(http.Features.Get<IServiceProvidersFeature>());
        Assert.Same(http.RequestServices, scope.RequestServices);
        Assert.Same(counter, http.RequestServices.GetRequiredService<ConnectionCounter>());
    }

    [Fact]
    public void Parts_kept_when_the_request_ends_stay_readable_and_unread_services_say_the_connection_ended()
    {
        using var services = Services();
        var http = Request(services);
        var parts = new HttpScopeParts(http, services, webSocket: true);
        var scope = ScopeFactory.Create(http, ChannelScopeType.WebSocket, parts);
        var cookies = scope.Cookies;

        parts.Keep();
        http.Request.Headers.Clear(); // What a recycled request would show.
        http.Connection.RemoteIpAddress = null;

        Assert.Equal("Value Kept", scope.GetHeader("x-mixed-case"));
        Assert.Same(cookies, scope.Cookies);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 50123), scope.Client);
        Assert.Equal(["proto.one", "proto.two"], scope.Subprotocols);
        Assert.Throws<ObjectDisposedException>(() => scope.RequestServices.GetService(typeof(ConnectionCounter)));
        Assert.Null(http.Features.Get<IServiceProvidersFeature>());
    }

    [Fact]
    public async Task Over_kestrel_a_consumer_that_reads_no_part_creates_no_request_services_and_its_scope_answers_after_the_request()
    {
        var host = await KestrelHost.StartAsync(app => app.MapChannels(new UrlRouter(Path("ws/lazy/", Consumer<LazyScopeConsumer>()))));
        ChannelScope scope;
        IPEndPoint client;
        await using (host)
        {
            await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/lazy/", [("X-Lazy", "yes"), ("Cookie", "k=v"), ("Sec-WebSocket-Protocol", "p1")]);
            Assert.Equal(101, raw.Status);
            client = raw.LocalEndPoint;
            scope = await host.Probe.ScopeAsync();
            Assert.Equal("services:none", await host.Probe.WaitForAsync("services:"));
        }

        // The server has stopped: the request is over, and what was not read was kept when it ended.
        Assert.Equal("yes", scope.GetHeader("x-lazy"));
        Assert.Equal(new Dictionary<string, string> { ["k"] = "v" }, scope.Cookies);
        Assert.Equal(["p1"], scope.Subprotocols);
        Assert.Equal(client, scope.Client);
        Assert.False(scope.User.Identity?.IsAuthenticated);
        Assert.Throws<ObjectDisposedException>(() => scope.RequestServices.GetService(typeof(Probe)));
    }

    private static ServiceProvider Services() => new ServiceCollection().AddScoped<ConnectionCounter>().BuildServiceProvider();

    private static DefaultHttpContext Request(IServiceProvider services)
    {
        var http = new DefaultHttpContext { ServiceScopeFactory = services.GetRequiredService<IServiceScopeFactory>() };
        http.Request.Method = "GET";
        http.Request.Scheme = "http";
        http.Request.Path = "/ws/lazy/";
        http.Request.QueryString = new QueryString("?q=1");
        http.Request.Headers["X-Repeated"] = new(["first", "second"]);
        http.Request.Headers["X-Mixed-Case"] = "Value Kept";
        http.Request.Headers.Cookie = "flavour=vanilla; size=large";
        http.Request.Headers.SecWebSocketProtocol = "proto.one, proto.two";
        http.Connection.RemoteIpAddress = IPAddress.Parse("10.1.2.3");
        http.Connection.RemotePort = 50123;
        http.Connection.LocalIpAddress = IPAddress.Loopback;
        http.Connection.LocalPort = 8000;
        return http;
    }

    /// <summary>Built without services, and reads no request part: hands its scope to the test and says whether the
    /// request's services exist (the probe is a singleton, taken from the application's services).</summary>
    public sealed class LazyScopeConsumer : AsyncWebSocketConsumer
    {
        public override Task ConnectAsync()
        {
            var probe = Scope.ApplicationServices.GetRequiredService<Probe>();
            probe.SetScope(Scope);
            probe.Add(Scope.HttpContext!.Features.Get<IServiceProvidersFeature>() is null ? "services:none" : "services:created");
            return AcceptAsync();
        }
    }
}
