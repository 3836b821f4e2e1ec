using Channels.Net.Routing;
using Microsoft.Extensions.Logging;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class ProtocolTypeRouterTests
{
    [Theory]
    [InlineData(ChannelScopeType.WebSocket)]
    [InlineData(ChannelScopeType.Http)]
    [InlineData(ChannelScopeType.Channel)]
    public async Task Each_scope_type_goes_to_its_application(string type)
    {
        var apps = new Dictionary<string, RecordingApplication>
        {
            [ChannelScopeType.WebSocket] = new("websocket"),
            [ChannelScopeType.Http] = new("http"),
            [ChannelScopeType.Channel] = new("channel"),
        };
        var router = new ProtocolTypeRouter(apps.ToDictionary(kv => kv.Key, kv => (IChannelApplication)kv.Value));
        var scope = WebSocket("/x/") with { Type = type };

        var session = await RunAsync(router, scope);

        Assert.Empty(session.Rejections);
        Assert.Same(scope, apps[type].Scope);
        Assert.All(apps.Where(kv => kv.Key != type), kv => Assert.Empty(kv.Value.Scopes));
    }

    [Fact]
    public async Task The_collection_initializer_form_routes_like_the_dictionary_form()
    {
        var chat = new RecordingApplication("chat");
        var worker = new RecordingApplication("worker");
        var router = new ProtocolTypeRouter
        {
            { ChannelScopeType.WebSocket, new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", chat)) },
            { ChannelScopeType.Channel, new ChannelNameRouter { { "thumbnails", worker } } },
        };

        await RunAsync(router, "/ws/chat/lobby/");
        await RunAsync(router, Channel("thumbnails"));

        Assert.Equal("lobby", chat.Scope.UrlRoute.Kwargs["room"]);
        Assert.Equal("thumbnails", worker.Scope.Channel);
        Assert.Equal([ChannelScopeType.WebSocket, ChannelScopeType.Channel], router.ApplicationMapping.Keys);
        Assert.Equal(2, router.Applications.Count());
        Assert.Equal(2, router.Count());
    }

    [Fact]
    public async Task An_unknown_scope_type_is_rejected_with_404_and_logged()
    {
        var logs = new RecordingLoggerProvider();
        var router = new ProtocolTypeRouter { { ChannelScopeType.WebSocket, new RecordingApplication() } };
        var scope = WebSocket("/x/", LoggingTo(logs)) with { Type = "lifespan" };

        var session = await RunAsync(router, scope);

        Assert.Equal((404, "No application configured for scope type 'lifespan'"), Assert.Single(session.Rejections));
        var entry = Assert.Single(logs.Entries);
        Assert.Equal(typeof(ProtocolTypeRouter).FullName, entry.Category);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal("No application configured for scope type 'lifespan'", entry.Message);
    }

    [Fact]
    public async Task Scope_types_compare_ordinally()
    {
        var app = new RecordingApplication();
        var router = new ProtocolTypeRouter { { ChannelScopeType.WebSocket, app } };

        var session = await RunAsync(router, WebSocket("/x/") with { Type = "WebSocket" });

        Assert.Empty(app.Scopes);
        Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
    }

    [Fact]
    public async Task An_unknown_scope_type_without_a_logger_is_still_rejected()
    {
        var session = await RunAsync(new ProtocolTypeRouter(), WebSocket("/x/", NoServices) with { Type = "http" });

        Assert.Equal((404, "No application configured for scope type 'http'"), Assert.Single(session.Rejections));
    }

    [Fact]
    public void A_scope_type_mapped_twice_is_refused()
    {
        var router = new ProtocolTypeRouter { { "http", new RecordingApplication() } };

        var e = Assert.Throws<ArgumentException>(() => router.Add("http", new RecordingApplication()));
        Assert.Contains("'http'", e.Message);
        Assert.Throws<ArgumentException>(() => new ProtocolTypeRouter(
            [new("http", new RecordingApplication()), new("http", new RecordingApplication())]));
    }

    [Fact]
    public void Null_keys_and_applications_are_refused()
    {
        var router = new ProtocolTypeRouter();

        Assert.Throws<ArgumentNullException>(() => router.Add(null!, new RecordingApplication()));
        Assert.Throws<ArgumentNullException>(() => router.Add("http", null!));
        Assert.Throws<ArgumentNullException>(() => new ProtocolTypeRouter(null!));
    }

    [Fact]
    public async Task Applications_cannot_be_added_once_the_router_has_served()
    {
        var router = new ProtocolTypeRouter { { "http", new RecordingApplication() } };
        await RunAsync(router, WebSocket("/x/") with { Type = "http" });

        Assert.Throws<InvalidOperationException>(() => router.Add("websocket", new RecordingApplication()));
        Assert.Single(router.ApplicationMapping);
    }

    [Fact]
    public void The_mapping_cannot_be_changed_through_its_read_only_view()
    {
        var router = new ProtocolTypeRouter { { "http", new RecordingApplication() } };

        var asDictionary = Assert.IsAssignableFrom<IDictionary<string, IChannelApplication>>(router.ApplicationMapping);
        Assert.Throws<NotSupportedException>(() => asDictionary.Add("websocket", new RecordingApplication()));
    }
}
