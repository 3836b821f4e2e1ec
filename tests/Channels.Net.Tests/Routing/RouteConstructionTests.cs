using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Routing;

public sealed class RouteConstructionTests
{
    private static readonly RecordingApplication App = new();

    [Theory]
    [InlineData(@"^ws/(?P<room>[\w-]+/$")]
    [InlineData(@"^ws/[a-/$")]
    [InlineData(@"^ws/*+/$")]
    [InlineData(@"^ws/(?P<1room>x)/$")]
    [InlineData(@"^ws/\k<missing>/")]
    public void A_bad_regex_fails_at_construction_naming_the_pattern(string regex)
    {
        var e = Assert.Throws<ArgumentException>(() => RePath(regex, App));

        Assert.StartsWith($"\"{regex}\" is not a valid regular expression: ", e.Message);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void A_bad_regex_to_a_nested_router_fails_too()
    {
        var e = Assert.Throws<ArgumentException>(() => RePath("^ws/(", new UrlRouter()));

        Assert.Contains("\"^ws/(\"", e.Message);
    }

    [Theory]
    [InlineData("ws/<float:x>/", "float")]
    [InlineData("ws/<Int:x>/", "Int")]
    [InlineData("ws/<:x>/", ":x")]
    public void An_unknown_converter_fails_at_construction_naming_route_and_converter(string route, string converter)
    {
        var e = Assert.Throws<ArgumentException>(() => Path(route, App));

        if (converter.StartsWith(':'))
        {
            // "<:x>" has no converter; the whole ":x" is taken as a parameter name, as in Django.
            Assert.StartsWith($"URL route '{route}' uses parameter name ':x' which isn't a valid Python identifier.", e.Message);
        }
        else
        {
            Assert.StartsWith($"URL route '{route}' uses invalid converter '{converter}'.", e.Message);
        }

        Assert.Equal("route", e.ParamName);
    }

    [Theory]
    [InlineData("ws/<int:1x>/", "1x")]
    [InlineData("ws/<int:a-b>/", "a-b")]
    [InlineData("ws/<int:a.b>/", "a.b")]
    public void A_parameter_that_is_not_an_identifier_fails_at_construction(string route, string parameter)
    {
        var e = Assert.Throws<ArgumentException>(() => Path(route, App));

        Assert.StartsWith($"URL route '{route}' uses parameter name '{parameter}' which isn't a valid Python identifier.", e.Message);
    }

    [Fact]
    public void Unicode_identifiers_are_valid_parameter_names()
    {
        var route = Path("ws/<str:salle_é>/<int:_n2>/", App);

        Assert.Equal("ws/<str:salle_é>/<int:_n2>/", route.Pattern);
    }

    [Theory]
    [InlineData("ws/<int: id>/")]
    [InlineData("ws/<int:id >/")]
    [InlineData("ws/<int\t:id>/")]
    [InlineData("ws/<str:a\nb>/")]
    public void Whitespace_in_angle_brackets_fails_at_construction(string route)
    {
        var e = Assert.Throws<ArgumentException>(() => Path(route, App));

        Assert.Contains("cannot contain whitespace in angle brackets <…>.", e.Message);
        Assert.StartsWith("URL route '", e.Message);
    }

    [Fact]
    public void A_parameter_used_twice_fails_at_construction()
    {
        var e = Assert.Throws<ArgumentException>(() => Path("ws/<int:id>/<str:id>/", App));

        Assert.Contains("'ws/<int:id>/<str:id>/'", e.Message);
        Assert.Contains("'id'", e.Message);
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => Path(null!, App));
        Assert.Throws<ArgumentNullException>(() => Path("ws/", null!));
        Assert.Throws<ArgumentNullException>(() => RePath(null!, App));
        Assert.Throws<ArgumentNullException>(() => RePath("^ws/", null!));
        Assert.Throws<ArgumentNullException>(() => new UrlRouter((IEnumerable<UrlPattern>)null!));
        Assert.Throws<ArgumentException>(() => new UrlRouter(Path("ws/", App), null!));
    }

    [Fact]
    public void A_null_default_kwarg_value_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Path("ws/", App, new Dictionary<string, object> { ["x"] = null! }));

        Assert.Equal("kwargs", e.ParamName);
    }

    [Fact]
    public void A_route_exposes_what_it_was_made_of()
    {
        var defaults = new Dictionary<string, object> { ["mode"] = "read" };

        var route = Path("ws/<int:id>/", App, defaults, name: "room");

        Assert.Equal("ws/<int:id>/", route.Pattern);
        Assert.Same(App, route.Application);
        Assert.Equal("room", route.Name);
        Assert.Equal("read", route.DefaultKwargs["mode"]);
        Assert.False(route.IsRegex);
        Assert.True(route.IsEndpoint);
        Assert.Empty(RePath("^x", App).DefaultKwargs);
        Assert.Null(RePath("^x", App).Name);
    }

    [Fact]
    public async Task A_route_can_be_shared_by_two_routers()
    {
        var app = new RecordingApplication();
        var route = Path("ws/<int:id>/", app);
        var first = new UrlRouter(route);
        var second = new UrlRouter(Path("other/", new RecordingApplication()), route);

        await RoutingHarness.RunAsync(first, "/ws/1/");
        await RoutingHarness.RunAsync(second, "/ws/2/");

        Assert.Equal([1, 2], app.Scopes.Select(scope => scope.UrlRoute.Kwargs["id"]));
    }
}
