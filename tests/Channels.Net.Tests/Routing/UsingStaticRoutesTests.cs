using Channels.Net.Routing;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

/// <summary>
/// This file compiles with implicit usings on (System.IO imported): <c>Path(...)</c> through
/// <c>using static</c> binds to <see cref="Routes.Path"/>. In such a file System.IO's class must be
/// written <c>System.IO.Path</c> (a bare <c>Path.Combine</c> fails with CS0119).
/// </summary>
public sealed class UsingStaticRoutesTests
{
    [Fact]
    public async Task The_design_document_usage_compiles_and_routes()
    {
        var app = new RecordingApplication();

        var router = new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", app));
        await RunAsync(router, "/ws/chat/lobby/");

        Assert.Equal("lobby", app.Scope.UrlRoute.Kwargs["room"].ToString());
    }

    [Fact]
    public async Task Path_through_using_static_is_the_route_factory_and_System_IO_Path_stays_reachable_qualified()
    {
        var app = new RecordingApplication();

        var router = new UrlRouter(Path("ws/rooms/<int:id>/", app), Routes.Path("ws/other/", app));
        await RunAsync(router, "/ws/rooms/3/");
        var combined = System.IO.Path.Combine("ws", "rooms");

        Assert.Equal(3, app.Scope.UrlRoute.Kwargs["id"]);
        Assert.Equal("ws" + System.IO.Path.DirectorySeparatorChar + "rooms", combined);
    }

    [Fact]
    public async Task Routes_qualified_works_without_using_static()
    {
        var app = new RecordingApplication();

        var router = new UrlRouter(Channels.Net.Routing.Routes.Path("ws/", app), Channels.Net.Routing.Routes.RePath("^api/", app));
        await RunAsync(router, "/api/x");

        Assert.Equal("x", app.Scope.PathRemaining);
    }
}
