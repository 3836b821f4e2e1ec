using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class UrlRouterTests
{
    [Fact]
    public async Task The_tutorial_route_gives_the_room_as_a_kwarg()
    {
        var chat = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", chat));

        var session = await RunAsync(router, "/ws/chat/lobby-1/");

        Assert.Empty(session.Rejections);
        var scope = chat.Scope;
        Assert.Equal("lobby-1", Assert.Single(scope.UrlRoute.Kwargs, kv => kv.Key == "room").Value);
        Assert.Single(scope.UrlRoute.Kwargs);
        Assert.Empty(scope.UrlRoute.Args);
        Assert.Equal("", scope.PathRemaining);
        Assert.Equal("/ws/chat/lobby-1/", scope.Path);
    }

    [Fact]
    public async Task The_first_matching_route_wins()
    {
        var first = new RecordingApplication("first");
        var second = new RecordingApplication("second");
        var router = new UrlRouter(
            RePath(@"^ws/(?P<name>\w+)/$", first),
            RePath(@"^ws/special/$", second));

        await RunAsync(router, "/ws/special/");

        Assert.Equal("special", first.Scope.UrlRoute.Kwargs["name"]);
        Assert.Empty(second.Scopes);
    }

    [Fact]
    public async Task Later_routes_are_tried_when_earlier_ones_do_not_match()
    {
        var chat = new RecordingApplication("chat");
        var news = new RecordingApplication("news");
        var router = new UrlRouter([RePath("^ws/chat/$", chat), Path("ws/news/", news)]);

        await RunAsync(router, "/ws/news/");

        Assert.Empty(chat.Scopes);
        Assert.Single(news.Scopes);
    }

    [Fact]
    public async Task The_outermost_router_routes_the_path_not_path_remaining()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("ws/chat/", app));
        var scope = WebSocket("/ws/chat/") with { PathRemaining = "something/else/" };

        var session = await RunAsync(router, scope);

        Assert.Empty(session.Rejections);
        Assert.Equal("", app.Scope.PathRemaining);
    }

    [Theory]
    [InlineData("/ws/chat/")]
    [InlineData("ws/chat/")]
    [InlineData("///ws/chat/")]
    public async Task Leading_slashes_are_stripped_before_matching_as_Python_lstrip_does(string path)
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath("^ws/chat/$", app));

        var session = await RunAsync(router, path);

        Assert.Empty(session.Rejections);
        Assert.Single(app.Scopes);
    }

    [Fact]
    public async Task The_rest_of_the_scope_is_handed_on_unchanged()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath("^ws/", app));
        var scope = WebSocket("/ws/chat/") with
        {
            QueryString = "token=abc",
            Headers = [new("origin", "https://example.com")],
            Subprotocols = ["chat.v1"],
            Items = new Dictionary<string, object?> { ["tenant"] = "acme" },
        };

        await RunAsync(router, scope);

        var routed = app.Scope;
        Assert.Equal(scope.Type, routed.Type);
        Assert.Equal(scope.Path, routed.Path);
        Assert.Equal("token=abc", routed.QueryString);
        Assert.Same(scope.Headers, routed.Headers);
        Assert.Same(scope.Subprotocols, routed.Subprotocols);
        Assert.Same(scope.RequestServices, routed.RequestServices);
        Assert.Equal("acme", routed.Items["tenant"]);
        Assert.Equal("chat/", routed.PathRemaining);
    }

    [Fact]
    public async Task A_regex_is_searched_for_anywhere_in_the_path()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath("chat/", app));

        var session = await RunAsync(router, "/api/ws/chat/lobby/");

        Assert.Empty(session.Rejections);
        Assert.Equal("lobby/", app.Scope.PathRemaining);
    }

    [Fact]
    public async Task An_endpoint_regex_without_dollar_matches_a_prefix_and_leaves_the_rest()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(?P<room>\w+)/", app));

        await RunAsync(router, "/ws/lobby/extra/bits");

        Assert.Equal("lobby", app.Scope.UrlRoute.Kwargs["room"]);
        Assert.Equal("extra/bits", app.Scope.PathRemaining);
    }

    [Fact]
    public async Task An_endpoint_regex_ending_with_dollar_must_match_the_whole_path()
    {
        // Searching finds "ws/chat/" inside "api/ws/chat/"; Django's fullmatch rule does not.
        var anchoredByDollar = new RecordingApplication("dollar");
        var unanchored = new RecordingApplication("no dollar");

        var session = await RunAsync(new UrlRouter(RePath("ws/chat/$", anchoredByDollar)), "/api/ws/chat/");
        await RunAsync(new UrlRouter(RePath("ws/chat/", unanchored)), "/api/ws/chat/");

        Assert.Empty(anchoredByDollar.Scopes);
        Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
        Assert.Single(unanchored.Scopes);
    }

    [Fact]
    public async Task The_fullmatch_rule_refuses_a_trailing_newline_that_dollar_alone_accepts()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", app));

        var session = await RunAsync(router, "/ws/chat/lobby/\n");

        Assert.Empty(app.Scopes);
        Assert.Equal((404, "No route found for path 'ws/chat/lobby/\\n'."), Assert.Single(session.Rejections));
    }

    [Fact]
    public async Task The_fullmatch_rule_does_not_apply_to_a_route_to_a_nested_router()
    {
        // Not an endpoint: plain search, where '$' also matches before a final newline.
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath("^ws/$", new UrlRouter(RePath("^\n$", app))));

        var session = await RunAsync(router, "/ws/\n");

        Assert.Empty(session.Rejections);
        Assert.Single(app.Scopes);
    }

    [Fact]
    public async Task An_escaped_dollar_at_the_end_also_triggers_the_fullmatch_rule_as_in_Django()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"price\$", app));

        var prefixed = await RunAsync(router, "/the-price$");
        var exact = await RunAsync(router, "/price$");

        Assert.Single(prefixed.Rejections);
        Assert.Empty(exact.Rejections);
        Assert.Single(app.Scopes);
    }

    [Fact]
    public async Task Named_groups_give_kwargs_and_unnamed_groups_are_then_ignored()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(\w+)/(?P<room>\w+)/(\d+)/$", app));

        await RunAsync(router, "/ws/chat/lobby/42/");

        Assert.Empty(app.Scope.UrlRoute.Args);
        Assert.Equal(["room"], app.Scope.UrlRoute.Kwargs.Keys);
        Assert.Equal("lobby", app.Scope.UrlRoute.Kwargs["room"]);
    }

    [Fact]
    public async Task Without_named_groups_the_groups_give_args_in_order_as_strings()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(\w+)/((\d)\d*)/$", app));

        await RunAsync(router, "/ws/chat/42/");

        Assert.Equal(["chat", "42", "4"], app.Scope.UrlRoute.Args);
        Assert.Empty(app.Scope.UrlRoute.Kwargs);
    }

    [Fact]
    public async Task A_named_group_that_took_no_part_is_left_out_of_kwargs()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(?:(?P<lang>[a-z]{2})/)?(?P<room>\w+)/$", app));

        await RunAsync(router, "/ws/lobby/");
        await RunAsync(router, "/ws/fr/lobby/");

        var scopes = app.Scopes.ToArray();
        Assert.Equal(["room"], scopes[0].UrlRoute.Kwargs.Keys);
        Assert.Equal("fr", scopes[1].UrlRoute.Kwargs["lang"]);
        Assert.Equal("lobby", scopes[1].UrlRoute.Kwargs["room"]);
    }

    [Fact]
    public async Task Named_groups_that_all_took_no_part_still_suppress_args()
    {
        // Django decides on groupdict() before dropping the None values.
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(?P<lang>[a-z]{2})?(x)?$", app));

        await RunAsync(router, "/ws/x");

        Assert.Empty(app.Scope.UrlRoute.Kwargs);
        Assert.Empty(app.Scope.UrlRoute.Args);
    }

    [Fact]
    public async Task An_unnamed_group_that_took_no_part_keeps_its_position_as_an_empty_string()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(\w+)/(?:(\d+)/)?(\w+)/$", app));

        await RunAsync(router, "/ws/chat/lobby/");

        Assert.Equal(["chat", "", "lobby"], app.Scope.UrlRoute.Args);
    }

    [Fact]
    public async Task Default_kwargs_are_added_and_override_captured_values()
    {
        var app = new RecordingApplication();
        var defaults = new Dictionary<string, object> { ["room"] = "forced", ["version"] = 2 };
        var router = new UrlRouter(RePath(@"^ws/(?P<room>\w+)/(?P<mode>\w+)/$", app, defaults));

        await RunAsync(router, "/ws/lobby/read/");

        var kwargs = app.Scope.UrlRoute.Kwargs;
        Assert.Equal("forced", kwargs["room"]);
        Assert.Equal("read", kwargs["mode"]);
        Assert.Equal(2, kwargs["version"]);
    }

    [Fact]
    public async Task Default_kwargs_are_copied_when_the_route_is_made()
    {
        var app = new RecordingApplication();
        var defaults = new Dictionary<string, object> { ["mode"] = "read" };
        var router = new UrlRouter(Path("ws/", app, defaults));
        defaults["mode"] = "write";

        await RunAsync(router, "/ws/");

        Assert.Equal("read", app.Scope.UrlRoute.Kwargs["mode"]);
    }

    [Fact]
    public async Task Captures_already_in_the_scope_are_kept_and_merged()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(?P<room>\w+)/$", app));
        var scope = WebSocket("/ws/lobby/") with
        {
            UrlRoute = new UrlRoute(["outer-arg"], new Dictionary<string, object> { ["tenant"] = "acme", ["room"] = "old" }),
        };

        await RunAsync(router, scope);

        Assert.Equal(["outer-arg"], app.Scope.UrlRoute.Args);
        Assert.Equal("acme", app.Scope.UrlRoute.Kwargs["tenant"]);
        Assert.Equal("lobby", app.Scope.UrlRoute.Kwargs["room"]);
    }

    [Fact]
    public async Task A_routed_scope_is_marked_routed_and_keeps_the_items_it_had_without_a_copy()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(?P<room>\w+)/$", app));
        var scope = WebSocket("/ws/lobby/") with { Items = new Dictionary<string, object?> { ["tenant"] = "acme" } };

        await RunAsync(router, scope);

        Assert.False(scope.Routed);
        Assert.True(app.Scope.Routed);
        Assert.Same(scope.Items, app.Scope.Items);
    }

    [Fact]
    public async Task A_scope_marked_routed_is_routed_on_its_path_remaining_and_an_unmarked_one_on_its_path()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("chat/", app));

        var nested = await RunAsync(router, WebSocket("/ws/chat/") with { PathRemaining = "chat/", Routed = true });
        var outer = await RunAsync(router, WebSocket("/ws/chat/") with { PathRemaining = "chat/" });

        Assert.Empty(nested.Rejections);
        Assert.Single(app.Scopes);
        Assert.Equal((404, "No route found for path 'ws/chat/'."), Assert.Single(outer.Rejections));
    }

    [Fact]
    public async Task Merged_kwargs_keep_the_order_names_were_first_set_and_are_read_only()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/(?P<room>\w+)/(?P<page>\d+)/$", app, new Dictionary<string, object> { ["mode"] = "read", ["page"] = "default" }));
        var scope = WebSocket("/ws/lobby/2/") with
        {
            UrlRoute = new UrlRoute([], new Dictionary<string, object> { ["tenant"] = "acme", ["room"] = "old" }),
        };

        await RunAsync(router, scope);

        var kwargs = app.Scope.UrlRoute.Kwargs;
        Assert.Equal(["tenant", "room", "page", "mode"], kwargs.Keys);
        Assert.Equal(["acme", "lobby", "default", "read"], kwargs.Values);
        Assert.Equal(4, kwargs.Count);
        Assert.True(kwargs.ContainsKey("page"));
        Assert.False(kwargs.TryGetValue("missing", out _));
        Assert.Throws<KeyNotFoundException>(() => kwargs["missing"]);
        Assert.IsNotAssignableFrom<IDictionary<string, object>>(kwargs);
    }

    [Theory]
    [InlineData("café")]
    [InlineData("日本語")]
    [InlineData("Ελληνικά-2")]
    [InlineData("Русский_чат")]
    public async Task Unicode_paths_match_word_classes_as_Python_does(string room)
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", app));

        var session = await RunAsync(router, $"/ws/chat/{room}/");

        Assert.Empty(session.Rejections);
        Assert.Equal(room, app.Scope.UrlRoute.Kwargs["room"]);
    }

    [Fact]
    public async Task Unicode_outside_the_basic_plane_is_routed_and_kept_whole()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("ws/emoji/<str:name>/", app));

        await RunAsync(router, "/ws/emoji/😀🎉/");

        Assert.Equal("😀🎉", app.Scope.UrlRoute.Kwargs["name"]);
    }

    [Fact]
    public async Task One_router_serves_many_connections_at_once_without_mixing_them_up()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(
            Path("ws/rooms/<int:id>/", new RecordingApplication("other")),
            RePath(@"^ws/chat/(?P<room>\w+)/$", app));

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => RunAsync(router, $"/ws/chat/room{i}/"))));

        Assert.Equal(200, app.Scopes.Count);
        Assert.All(app.Scopes, scope => Assert.Equal("/ws/chat/" + scope.UrlRoute.Kwargs["room"] + "/", scope.Path));
        Assert.Equal(200, app.Scopes.Select(scope => scope.UrlRoute.Kwargs["room"]).Distinct().Count());
    }

    [Fact]
    public void Routes_and_applications_are_exposed_in_order()
    {
        var a = new RecordingApplication("a");
        var b = new RecordingApplication("b");
        var router = new UrlRouter(Path("a/", a, name: "route-a"), RePath("^b/", b));

        Assert.Equal([a, b], router.Applications);
        Assert.Equal(["a/", "^b/"], router.Routes.Select(route => route.Pattern));
        Assert.Equal("route-a", router.Routes[0].Name);
        Assert.False(router.Routes[0].IsRegex);
        Assert.True(router.Routes[1].IsRegex);
        Assert.IsAssignableFrom<INestedChannelApplication>(router);
    }
}
