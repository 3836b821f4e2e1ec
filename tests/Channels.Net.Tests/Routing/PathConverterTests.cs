using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class PathConverterTests
{
    private static async Task<ChannelScope?> RouteAsync(string route, string path)
    {
        var app = new RecordingApplication();
        var session = await RunAsync(new UrlRouter(Path(route, app)), path);
        if (app.Scopes.Count == 0)
        {
            Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
            return null;
        }

        Assert.Empty(session.Rejections);
        return app.Scope;
    }

    [Fact]
    public async Task A_route_without_converters_must_equal_the_whole_path()
    {
        Assert.NotNull(await RouteAsync("ws/chat/", "/ws/chat/"));
        Assert.Null(await RouteAsync("ws/chat/", "/ws/chat/lobby/"));
        Assert.Null(await RouteAsync("ws/chat/", "/ws/chat"));
        Assert.Null(await RouteAsync("ws/chat/", "/api/ws/chat/"));
    }

    [Fact]
    public async Task A_route_is_literal_text_not_a_regex()
    {
        Assert.Null(await RouteAsync("ws/c.t/", "/ws/cat/"));
        Assert.NotNull(await RouteAsync("ws/c.t/(x)/", "/ws/c.t/(x)/"));
        Assert.NotNull(await RouteAsync("ws/a+b/<int:id>/", "/ws/a+b/1/"));
        Assert.Null(await RouteAsync("ws/a+b/<int:id>/", "/ws/aab/1/"));
    }

    [Fact]
    public async Task Str_is_the_default_and_matches_one_segment()
    {
        var scope = await RouteAsync("ws/chat/<room>/", "/ws/chat/lobby 1/");
        Assert.Equal("lobby 1", scope!.UrlRoute.Kwargs["room"]);
        Assert.IsType<string>(scope.UrlRoute.Kwargs["room"]);

        Assert.Equal("lobby", (await RouteAsync("ws/chat/<str:room>/", "/ws/chat/lobby/"))!.UrlRoute.Kwargs["room"]);
        Assert.Null(await RouteAsync("ws/chat/<str:room>/", "/ws/chat/a/b/"));
        Assert.Null(await RouteAsync("ws/chat/<str:room>/", "/ws/chat//"));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("42", 42)]
    [InlineData("007", 7)]
    [InlineData("2147483647", int.MaxValue)]
    public async Task Int_gives_an_int(string text, int expected)
    {
        var scope = await RouteAsync("ws/rooms/<int:id>/", $"/ws/rooms/{text}/");

        var value = Assert.IsType<int>(scope!.UrlRoute.Kwargs["id"]);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5")]
    [InlineData("1e3")]
    [InlineData("")]
    [InlineData("٣")]
    [InlineData("12a")]
    public async Task Int_refuses_anything_but_ascii_digits(string text)
    {
        Assert.Null(await RouteAsync("ws/rooms/<int:id>/", $"/ws/rooms/{text}/"));
    }

    [Fact]
    public async Task An_int_too_large_for_int_does_not_match_instead_of_overflowing()
    {
        Assert.Null(await RouteAsync("ws/rooms/<int:id>/", "/ws/rooms/2147483648/"));
        Assert.Null(await RouteAsync("ws/rooms/<int:id>/", "/ws/rooms/99999999999999999999999/"));
    }

    [Fact]
    public async Task A_failed_conversion_lets_a_later_route_match()
    {
        var ints = new RecordingApplication("ints");
        var strings = new RecordingApplication("strings");
        var router = new UrlRouter(Path("ws/rooms/<int:id>/", ints), Path("ws/rooms/<str:id>/", strings));

        await RunAsync(router, "/ws/rooms/99999999999/");

        Assert.Empty(ints.Scopes);
        Assert.Equal("99999999999", strings.Scope.UrlRoute.Kwargs["id"]);
    }

    [Theory]
    [InlineData("hello-world_1")]
    [InlineData("ABC")]
    [InlineData("-")]
    public async Task Slug_matches_ascii_letters_digits_hyphens_and_underscores(string slug)
    {
        var scope = await RouteAsync("blog/<slug:slug>/", $"/blog/{slug}/");

        Assert.Equal(slug, Assert.IsType<string>(scope!.UrlRoute.Kwargs["slug"]));
    }

    [Theory]
    [InlineData("héllo")]
    [InlineData("a.b")]
    [InlineData("a b")]
    [InlineData("日本")]
    public async Task Slug_refuses_other_characters(string slug)
    {
        Assert.Null(await RouteAsync("blog/<slug:slug>/", $"/blog/{slug}/"));
    }

    [Fact]
    public async Task Uuid_gives_a_guid()
    {
        var scope = await RouteAsync("ws/<uuid:id>/", "/ws/0f8fad5b-d9cb-469f-a165-70867728950e/");

        var value = Assert.IsType<Guid>(scope!.UrlRoute.Kwargs["id"]);
        Assert.Equal(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), value);
    }

    [Theory]
    [InlineData("0F8FAD5B-D9CB-469F-A165-70867728950E")]
    [InlineData("0f8fad5bd9cb469fa16570867728950e")]
    [InlineData("{0f8fad5b-d9cb-469f-a165-70867728950e}")]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950")]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950ef")]
    [InlineData("0g8fad5b-d9cb-469f-a165-70867728950e")]
    public async Task Uuid_accepts_only_the_lower_case_hyphenated_form(string text)
    {
        Assert.Null(await RouteAsync("ws/<uuid:id>/", $"/ws/{text}/"));
    }

    [Fact]
    public async Task Path_matches_across_slashes()
    {
        var scope = await RouteAsync("files/<path:rest>", "/files/a/b/c.txt");

        Assert.Equal("a/b/c.txt", scope!.UrlRoute.Kwargs["rest"]);
        Assert.Null(await RouteAsync("files/<path:rest>", "/files/"));
    }

    [Fact]
    public async Task Several_converters_give_several_typed_kwargs()
    {
        var scope = await RouteAsync("ws/<slug:org>/<int:year>/<uuid:doc>/<path:rest>", "/ws/acme/2026/0f8fad5b-d9cb-469f-a165-70867728950e/x/y");

        var kwargs = scope!.UrlRoute.Kwargs;
        Assert.Equal(["org", "year", "doc", "rest"], kwargs.Keys);
        Assert.Equal("acme", kwargs["org"]);
        Assert.Equal(2026, kwargs["year"]);
        Assert.Equal(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), kwargs["doc"]);
        Assert.Equal("x/y", kwargs["rest"]);
        Assert.Empty(scope.UrlRoute.Args);
    }

    [Fact]
    public async Task An_endpoint_route_with_converters_must_reach_the_absolute_end()
    {
        Assert.Null(await RouteAsync("ws/<int:id>/", "/ws/1/\n"));
        Assert.Null(await RouteAsync("ws/<int:id>/", "/ws/1/x"));
        Assert.Null(await RouteAsync("ws/<int:id>/", "/api/ws/1/"));
    }

    [Fact]
    public async Task Unicode_segments_pass_through_str()
    {
        var scope = await RouteAsync("ws/<str:room>/<int:n>/", "/ws/café-日本/3/");

        Assert.Equal("café-日本", scope!.UrlRoute.Kwargs["room"]);
        Assert.Equal(3, scope.UrlRoute.Kwargs["n"]);
    }

    [Fact]
    public async Task Whitespace_outside_angle_brackets_is_literal()
    {
        var scope = await RouteAsync("space \t/<int:num>/", "/space \t/1/");

        Assert.Equal(1, scope!.UrlRoute.Kwargs["num"]);
    }

    [Fact]
    public async Task Default_kwargs_override_converted_values()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(Path("ws/<int:id>/", app, new Dictionary<string, object> { ["id"] = "fixed", ["extra"] = true }));

        await RunAsync(router, "/ws/5/");

        Assert.Equal("fixed", app.Scope.UrlRoute.Kwargs["id"]);
        Assert.Equal(true, app.Scope.UrlRoute.Kwargs["extra"]);
    }
}
