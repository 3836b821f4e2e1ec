using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>Authenticates a request from its X-Test-User header.</summary>
public sealed class HeaderAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TestHeader";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue("X-Test-User", out var user) || string.IsNullOrEmpty(user))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user!), new Claim(ClaimTypes.Role, "tester")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

/// <summary>What a consumer's scope holds when the connection came through Kestrel.</summary>
public sealed class ScopeFromRequestTests
{
    private static Task<KestrelHost> StartAsync() => KestrelHost.StartAsync(
        app =>
        {
            app.UseAuthentication();
            app.UseSession();
            app.MapGet("/session/set", (HttpContext context, string colour) =>
            {
                context.Session.SetString("colour", colour);
                return "set";
            });
            app.MapChannels(new UrlRouter(RePath(@"^ws/scope/(?P<name>[^/]+)/$", Consumer<ScopeConsumer>())));
        },
        configure: builder =>
        {
            builder.Services.AddAuthentication(HeaderAuthenticationHandler.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HeaderAuthenticationHandler.SchemeName, null);
            builder.Services.AddDistributedMemoryCache();
            builder.Services.AddSession();
            builder.Services.AddScoped<ConnectionCounter>();
        });

    [Fact]
    public async Task Path_raw_path_query_headers_endpoints_subprotocols_and_scheme_come_from_the_request()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/scope/caf%C3%A9%20au%20lait/?q=a%20b&x=1&x=2", [
            ("X-Repeated", "first"),
            ("X-Repeated", "second"),
            ("X-Mixed-Case", "Value Kept"),
            ("Sec-WebSocket-Protocol", "proto.one, proto.two"),
            ("Cookie", "flavour=vanilla; size=large"),
        ]);
        Assert.Equal(101, raw.Status);
        var scope = await host.Probe.ScopeAsync();

        Assert.Equal(ChannelScopeType.WebSocket, scope.Type);
        Assert.Equal("/ws/scope/café au lait/", scope.Path);
        Assert.Equal("/ws/scope/caf%C3%A9%20au%20lait/", scope.RawPath);
        Assert.Equal("café au lait", scope.UrlRoute.Kwargs["name"]);
        Assert.Equal("q=a%20b&x=1&x=2", scope.QueryString);
        Assert.Equal("ws", scope.Scheme);
        Assert.Equal("GET", scope.Method);
        Assert.Equal(["first", "second"], scope.Headers.Where(h => h.Key == "x-repeated").Select(h => h.Value));
        Assert.Equal("Value Kept", scope.GetHeader("X-MIXED-CASE"));
        Assert.All(scope.Headers, h => Assert.Equal(h.Key.ToLowerInvariant(), h.Key));
        Assert.Equal($"127.0.0.1:{host.Port}", scope.GetHeader("host"));
        Assert.Equal(new Dictionary<string, string> { ["flavour"] = "vanilla", ["size"] = "large" }, scope.Cookies);
        Assert.Equal(raw.LocalEndPoint, scope.Client);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, host.Port), scope.Server);
        Assert.Equal(["proto.one", "proto.two"], scope.Subprotocols);
        Assert.Equal("proto.one", raw.ResponseHeaders.Single(h => h.Key == "sec-websocket-protocol").Value);
        Assert.False(scope.User.Identity?.IsAuthenticated);
        Assert.NotNull(scope.HttpContext);
    }

    [Fact]
    public async Task User_comes_from_aspnetcore_authentication()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/scope/auth/"), headers: [new("X-Test-User", "alice")]);
        var scope = await host.Probe.ScopeAsync();

        Assert.True(scope.User.Identity?.IsAuthenticated);
        Assert.Equal("alice", scope.User.Identity?.Name);
        Assert.True(scope.User.IsInRole("tester"));
        await client.SendAsync("who");
        Assert.Equal("user:alice", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Session_set_by_an_earlier_http_request_is_read_by_the_consumer_with_the_same_cookie()
    {
        await using var host = await StartAsync();
        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies };
        using var http = new HttpClient(handler) { BaseAddress = host.HttpUri, Timeout = Limits.Step };
        Assert.Equal("set", await http.GetStringAsync("session/set?colour=teal").Within());
        Assert.NotEmpty(cookies.GetCookies(host.HttpUri));

        await using var client = await WsClient.ConnectAsync(host.Ws("ws/scope/session/"), cookies: cookies);
        var scope = await host.Probe.ScopeAsync();

        Assert.NotNull(scope.Session);
        Assert.Equal("teal", host.Probe.Bag["session"]);
    }

    [Fact]
    public async Task Without_the_session_cookie_the_consumer_sees_an_empty_session()
    {
        await using var host = await StartAsync();
        await using var client = await WsClient.ConnectAsync(host.Ws("ws/scope/session/"));
        await host.Probe.ScopeAsync();

        Assert.Null(host.Probe.Bag["session"]);
    }

    [Fact]
    public async Task Request_services_resolve_scoped_services_and_the_consumer_gets_the_same_one_injected()
    {
        await using var host = await StartAsync();
        await using var first = await WsClient.ConnectAsync(host.Ws("ws/scope/one/"));
        var scope = await host.Probe.ScopeAsync();

        var injected = Assert.IsType<Guid>(host.Probe.Bag["injected"]);
        Assert.Equal(injected, host.Probe.Bag["resolved"]);
        Assert.Equal(injected, scope.RequestServices.GetRequiredService<ConnectionCounter>().Id);
        Assert.NotEqual(injected, host.Services.CreateScope().ServiceProvider.GetRequiredService<ConnectionCounter>().Id);
    }

    [Fact]
    public async Task An_absolute_form_request_target_still_gives_a_path_only_raw_path()
    {
        await using var host = await StartAsync();
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, $"http://127.0.0.1:{host.Port}/ws/scope/abs%20olute/?a=1");
        Assert.Equal(101, raw.Status);
        var scope = await host.Probe.ScopeAsync();

        Assert.Equal("/ws/scope/abs olute/", scope.Path);
        Assert.Equal("/ws/scope/abs%20olute/", scope.RawPath);
        Assert.Equal("a=1", scope.QueryString);
    }
}
