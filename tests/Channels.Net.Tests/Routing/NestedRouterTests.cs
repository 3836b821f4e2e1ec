using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class NestedRouterTests
{
    [Fact]
    public async Task A_nested_router_routes_what_the_outer_route_left()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("ws/", new UrlRouter(Path("chat/<str:room>/", app))));

        var session = await RunAsync(router, "/ws/chat/lobby/");

        Assert.Empty(session.Rejections);
        Assert.Equal("lobby", app.Scope.UrlRoute.Kwargs["room"]);
        Assert.Equal("", app.Scope.PathRemaining);
        Assert.Equal("/ws/chat/lobby/", app.Scope.Path);
    }

    [Fact]
    public void A_route_to_a_router_is_not_an_endpoint_and_a_route_to_anything_else_is()
    {
        var app = new RecordingApplication();

        Assert.False(Path("ws/", new UrlRouter()).IsEndpoint);
        Assert.False(RePath("^ws/$", new UrlRouter()).IsEndpoint);
        Assert.True(Path("ws/", app).IsEndpoint);
        Assert.True(RePath("^ws/$", app).IsEndpoint);
        Assert.True(Path("ws/", new PassThroughMiddleware(new UrlRouter())).IsEndpoint);
    }

    [Fact]
    public async Task A_path_route_with_converters_to_a_router_matches_a_prefix()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("org/<int:org>/", new UrlRouter(Path("rooms/<int:room>/", app))));

        await RunAsync(router, "/org/7/rooms/12/");

        Assert.Equal(7, app.Scope.UrlRoute.Kwargs["org"]);
        Assert.Equal(12, app.Scope.UrlRoute.Kwargs["room"]);
    }

    [Fact]
    public async Task Outer_and_inner_kwargs_merge_and_the_inner_ones_win()
    {
        var app = new RecordingApplication();
        var inner = new UrlRouter(RePath(@"^chat/(?P<room>\w+)/(?P<version>\w+)/$", app));
        var router = new UrlRouter(RePath(@"^ws/(?P<version>v\d+)/(?P<tenant>\w+)/", inner));

        await RunAsync(router, "/ws/v1/acme/chat/lobby/v2/");

        var kwargs = app.Scope.UrlRoute.Kwargs;
        Assert.Equal("acme", kwargs["tenant"]);
        Assert.Equal("lobby", kwargs["room"]);
        Assert.Equal("v2", kwargs["version"]);
    }

    [Fact]
    public async Task Outer_and_inner_args_are_concatenated()
    {
        var app = new RecordingApplication();
        var inner = new UrlRouter(RePath(@"^(\w+)/(\d+)/$", app));
        var router = new UrlRouter(RePath(@"^ws/(\w+)/", inner));

        await RunAsync(router, "/ws/acme/chat/42/");

        Assert.Equal(["acme", "chat", "42"], app.Scope.UrlRoute.Args);
    }

    [Fact]
    public async Task Default_kwargs_of_both_levels_are_merged()
    {
        var app = new RecordingApplication();
        var inner = new UrlRouter(Path("chat/", app, new Dictionary<string, object> { ["inner"] = 2, ["shared"] = "inner" }));
        var router = new UrlRouter(Path("ws/", inner, new Dictionary<string, object> { ["outer"] = 1, ["shared"] = "outer" }));

        await RunAsync(router, "/ws/chat/");

        var kwargs = app.Scope.UrlRoute.Kwargs;
        Assert.Equal(1, kwargs["outer"]);
        Assert.Equal(2, kwargs["inner"]);
        Assert.Equal("inner", kwargs["shared"]);
    }

    [Fact]
    public async Task Routers_nest_three_deep()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(
            Path("api/<slug:version>/", new UrlRouter(
                RePath(@"^org/(?P<org>\w+)/", new UrlRouter(
                    Path("rooms/<int:room>/", app))))));

        await RunAsync(router, "/api/v2/org/acme/rooms/5/");

        var kwargs = app.Scope.UrlRoute.Kwargs;
        Assert.Equal("v2", kwargs["version"]);
        Assert.Equal("acme", kwargs["org"]);
        Assert.Equal(5, kwargs["room"]);
    }

    [Fact]
    public async Task A_leading_slash_left_by_the_outer_route_is_stripped_by_the_nested_router()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath("^ws", new UrlRouter(Path("chat/", app))));

        var session = await RunAsync(router, "/ws/chat/");

        Assert.Empty(session.Rejections);
        Assert.Single(app.Scopes);
    }

    [Fact]
    public async Task When_the_nested_router_has_no_route_the_next_outer_route_is_tried()
    {
        var chat = new RecordingApplication("chat");
        var fallback = new RecordingApplication("fallback");
        var router = new UrlRouter(
            Path("ws/", new UrlRouter(Path("chat/", chat))),
            RePath(@"^ws/(?P<anything>.+)$", fallback));

        await RunAsync(router, "/ws/news/");

        Assert.Empty(chat.Scopes);
        Assert.Equal("news/", fallback.Scope.UrlRoute.Kwargs["anything"]);
    }

    [Fact]
    public async Task When_no_nested_router_has_a_route_the_outermost_rejects_with_its_whole_path()
    {
        var router = new UrlRouter(
            Path("ws/", new UrlRouter(Path("chat/", new RecordingApplication()))),
            Path("api/", new UrlRouter(Path("chat/", new RecordingApplication()))));

        var session = await RunAsync(router, "/ws/news/");

        Assert.Equal((404, "No route found for path 'ws/news/'."), Assert.Single(session.Rejections));
    }

    [Fact]
    public async Task A_router_behind_middleware_routes_path_remaining()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath("^ws/", new PassThroughMiddleware(new UrlRouter(Path("chat/<str:room>/", app)))));

        var session = await RunAsync(router, "/ws/chat/lobby/");

        Assert.Empty(session.Rejections);
        Assert.Equal("lobby", app.Scope.UrlRoute.Kwargs["room"]);
    }

    [Fact]
    public async Task A_router_behind_middleware_with_no_route_rejects_with_the_rest_of_the_path()
    {
        var logs = new RecordingLoggerProvider();
        var router = new UrlRouter(RePath("^ws/", new PassThroughMiddleware(new UrlRouter(Path("chat/", new RecordingApplication())))));

        var session = await RunAsync(router, "/ws/news/", LoggingTo(logs));

        Assert.Equal((404, "No route found for path 'news/'."), Assert.Single(session.Rejections));
        var entry = Assert.Single(logs.Entries);
        Assert.Equal("No route found for path 'news/'.", entry.Message);
    }

    [Fact]
    public async Task The_marker_of_a_routed_scope_keeps_the_items_already_there()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("ws/", app));
        var scope = WebSocket("/ws/") with { Items = new Dictionary<string, object?> { ["user-id"] = 7 } };

        await RunAsync(router, scope);

        Assert.Equal(7, app.Scope.Items["user-id"]);
        Assert.Same(scope.Items, app.Scope.Items);
        Assert.True(app.Scope.Routed);
        Assert.False(scope.Routed);
    }

    [Fact]
    public async Task Nested_routers_and_their_applications_are_listed_for_start_up_checks()
    {
        var app = new RecordingApplication();
        var inner = new UrlRouter(Path("chat/", app));
        var router = new UrlRouter(Path("ws/", inner));

        Assert.Equal([inner], router.Applications);
        Assert.Equal([app], inner.Applications);
        await RunAsync(router, "/ws/chat/");
        Assert.Single(app.Scopes);
    }
}
