using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class PythonSyntaxTests
{
    public static TheoryData<string, string, string> Equivalent => new()
    {
        { @"^ws/chat/(?P<room>[\w-]+)/$", @"^ws/chat/(?<room>[\w-]+)/$", "/ws/chat/lobby/" },
        { @"^ws/(?P<a>\w+)/(?P=a)/$", @"^ws/(?<a>\w+)/\k<a>/$", "/ws/echo/echo/" },
        { @"^ws/(?P<room>\w+)/\Z", @"^ws/(?<room>\w+)/\z", "/ws/lobby/" },
        { @"^ws/(?P<id>\d+)(?:/(?P<page>\d+))?/$", @"^ws/(?<id>\d+)(?:/(?<page>\d+))?/$", "/ws/12/3/" },
        { @"^ws/(?i:CHAT)/(?P<room>[^/]+)/$", @"^ws/(?i:CHAT)/(?<room>[^/]+)/$", "/ws/chat/Lobby/" },
    };

    [Theory]
    [MemberData(nameof(Equivalent))]
    public async Task Python_and_dotnet_spellings_route_alike(string python, string dotnet, string path)
    {
        var fromPython = new RecordingApplication("python");
        var fromDotnet = new RecordingApplication("dotnet");

        var pythonSession = await RunAsync(new UrlRouter(RePath(python, fromPython)), path);
        var dotnetSession = await RunAsync(new UrlRouter(RePath(dotnet, fromDotnet)), path);

        Assert.Empty(pythonSession.Rejections);
        Assert.Empty(dotnetSession.Rejections);
        Assert.Equal(fromDotnet.Scope.UrlRoute.Kwargs, fromPython.Scope.UrlRoute.Kwargs);
        Assert.Equal(fromDotnet.Scope.UrlRoute.Args, fromPython.Scope.UrlRoute.Args);
        Assert.Equal(fromDotnet.Scope.PathRemaining, fromPython.Scope.PathRemaining);
        Assert.NotEmpty(fromPython.Scope.UrlRoute.Kwargs);
    }

    [Theory]
    [InlineData(@"^ws/(?P<a>\w+)/(?P=a)/$", "/ws/echo/other/")]
    [InlineData(@"^ws/(?P<room>\w+)/\Z", "/ws/lobby/\n")]
    public async Task Python_constructs_keep_their_meaning_when_they_refuse(string python, string path)
    {
        var app = new RecordingApplication();

        var session = await RunAsync(new UrlRouter(RePath(python, app)), path);

        Assert.Empty(app.Scopes);
        Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
    }

    [Fact]
    public async Task Python_named_group_syntax_inside_a_character_class_is_left_alone()
    {
        var app = new RecordingApplication();

        await RunAsync(new UrlRouter(RePath(@"^ws/(?P<sym>[(?P<>]+)/$", app)), "/ws/(?P</");

        Assert.Equal("(?P<", app.Scope.UrlRoute.Kwargs["sym"]);
    }

    [Fact]
    public void The_pattern_is_kept_as_written()
    {
        var route = RePath(@"^ws/chat/(?P<room>[\w-]+)/$", new RecordingApplication());

        Assert.Equal(@"^ws/chat/(?P<room>[\w-]+)/$", route.Pattern);
        Assert.Equal(@"^ws/chat/(?P<room>[\w-]+)/$", route.ToString());
    }
}
