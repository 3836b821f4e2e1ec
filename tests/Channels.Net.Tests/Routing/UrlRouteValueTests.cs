using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

/// <summary>Route values are read typed: as captured when the type matches, converted from a regex group's text otherwise.</summary>
public sealed class UrlRouteValueTests
{
    [Fact]
    public async Task A_converted_path_value_is_read_as_its_type()
    {
        var app = new RecordingApplication();
        var id = Guid.NewGuid();
        await RunAsync(new UrlRouter(Path("rooms/<int:page>/<uuid:id>/<slug:name>/", app)), $"/rooms/42/{id}/the-lobby/");
        var route = app.Scope!.UrlRoute;

        Assert.Equal(42, route.Get<int>("page"));
        Assert.Equal(42L, route.Get<long>("page")); // widened
        Assert.Equal("42", route.Get<string>("page"));
        Assert.Equal(id, route.Get<Guid>("id"));
        Assert.Equal("the-lobby", route.Get<string>("name"));
        Assert.Equal(42, route.Get<int?>("page"));
    }

    [Fact]
    public async Task A_regex_group_is_text_and_converts_to_what_is_asked()
    {
        var app = new RecordingApplication();
        var id = Guid.NewGuid();
        await RunAsync(new UrlRouter(RePath(@"^rooms/(?P<page>\d+)/(?P<id>[0-9a-f-]+)/(?P<on>true|false)/(\d+)/$", app)), $"/rooms/7/{id}/true/9/");
        var route = app.Scope!.UrlRoute;

        Assert.Equal("7", route.Kwargs["page"]);
        Assert.Equal(7, route.Get<int>("page"));
        Assert.Equal(7.0, route.Get<double>("page"));
        Assert.Equal(id, route.Get<Guid>("id"));
        Assert.True(route.Get<bool>("on"));
        Assert.True(route.TryGet<int>("page", out var page) && page == 7);
    }

    [Fact]
    public void Positional_values_are_read_by_index()
    {
        var route = new UrlRoute(["12", 3], new Dictionary<string, object>());

        Assert.Equal(12, route.Get<int>(0));
        Assert.Equal(3, route.Get<int>(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => route.Get<int>(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => route.Get<int>(-1));
    }

    [Fact]
    public void A_missing_name_says_which_names_were_captured()
    {
        var route = new UrlRoute([], new Dictionary<string, object> { ["room"] = "lobby", ["page"] = 2 });

        var missing = Assert.Throws<KeyNotFoundException>(() => route.Get<string>("rom"));

        Assert.Contains("'rom'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("page, room", missing.Message, StringComparison.Ordinal);
        Assert.False(route.TryGet<string>("rom", out _));
        Assert.Contains("none", Assert.Throws<KeyNotFoundException>(() => UrlRoute.Empty.Get<int>("x")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lobby")]
    [InlineData("99999999999")] // too big for an int
    [InlineData("")]
    public void A_value_that_cannot_be_read_as_the_type_is_a_clear_error(string text)
    {
        var route = new UrlRoute([], new Dictionary<string, object> { ["page"] = text });

        var error = Assert.Throws<FormatException>(() => route.Get<int>("page"));

        Assert.Contains("'page'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
        Assert.False(route.TryGet<int>("page", out _));
        Assert.False(route.TryGet<Guid>("page", out _));
    }

    [Fact]
    public void A_value_of_an_unrelated_type_is_not_converted()
    {
        var route = new UrlRoute([], new Dictionary<string, object> { ["id"] = Guid.NewGuid() });

        Assert.Throws<FormatException>(() => route.Get<int>("id"));
        Assert.False(route.TryGet<Uri>("id", out _));
        Assert.Throws<ArgumentNullException>(() => route.Get<int>(null!));
    }
}
