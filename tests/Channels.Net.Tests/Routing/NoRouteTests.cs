using Channels.Net.Routing;
using Microsoft.Extensions.Logging;
using static Channels.Net.Routing.Routes;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class NoRouteTests
{
    [Fact]
    public async Task No_route_rejects_with_404_and_Djangos_message()
    {
        var app = new RecordingApplication();
        var router = new UrlRouter(RePath(@"^ws/chat/(?P<room>[\w-]+)/$", app));

        var session = await RunAsync(router, "/ws/nope/");

        Assert.Empty(app.Scopes);
        Assert.Equal((404, "No route found for path 'ws/nope/'."), Assert.Single(session.Rejections));
    }

    [Fact]
    public async Task No_route_is_logged_at_information_level_under_the_router_category()
    {
        var logs = new RecordingLoggerProvider();
        var router = new UrlRouter(Path("ws/chat/", new RecordingApplication()));

        await RunAsync(router, "/ws/nope/", LoggingTo(logs));

        var entry = Assert.Single(logs.Entries);
        Assert.Equal(typeof(UrlRouter).FullName, entry.Category);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal("No route found for path 'ws/nope/'.", entry.Message);
    }

    [Fact]
    public async Task An_http_request_without_a_route_is_logged_at_debug_level_only()
    {
        var logs = new RecordingLoggerProvider();
        var router = new UrlRouter(Path("ws/chat/", new RecordingApplication()));
        var scope = WebSocket("/favicon.ico", LoggingTo(logs)) with { Type = ChannelScopeType.Http };

        var session = await RunAsync(router, scope);

        Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
        var entry = Assert.Single(logs.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
    }

    [Fact]
    public async Task A_matched_route_logs_nothing()
    {
        var logs = new RecordingLoggerProvider();
        var router = new UrlRouter(Path("ws/chat/", new RecordingApplication()));

        await RunAsync(router, "/ws/chat/", LoggingTo(logs));

        Assert.Empty(logs.Entries);
    }

    [Fact]
    public async Task Without_a_logger_the_connection_is_still_rejected()
    {
        var router = new UrlRouter(Path("ws/chat/", new RecordingApplication()));

        var session = await RunAsync(router, "/ws/nope/", NoServices);

        Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
    }

    [Fact]
    public async Task Without_any_services_the_connection_is_still_rejected()
    {
        var router = new UrlRouter(Path("ws/chat/", new RecordingApplication()));
        var scope = WebSocket("/ws/nope/") with { RequestServices = null! };

        var session = await RunAsync(router, scope);

        Assert.Equal(404, Assert.Single(session.Rejections).StatusCode);
    }

    [Fact]
    public async Task An_empty_router_rejects_everything_including_the_root()
    {
        var session = await RunAsync(new UrlRouter(), "/");

        Assert.Equal((404, "No route found for path ''."), Assert.Single(session.Rejections));
    }

    [Fact]
    public async Task The_root_path_matches_an_empty_route()
    {
        var app = new RecordingApplication();

        var session = await RunAsync(new UrlRouter(Path("", app)), "/");

        Assert.Empty(session.Rejections);
        Assert.Single(app.Scopes);
    }

    [Theory]
    [InlineData("/ws/it's/", "No route found for path \"ws/it's/\".")]
    [InlineData("/ws/\"q\"/", "No route found for path 'ws/\"q\"/'.")]
    [InlineData("/ws/both'\"/", "No route found for path 'ws/both\\'\"/'.")]
    [InlineData("/ws/a\\b/", "No route found for path 'ws/a\\\\b/'.")]
    [InlineData("/ws/line\r\nbreak/", "No route found for path 'ws/line\\r\\nbreak/'.")]
    [InlineData("/ws/\u0001\u007f\u00a0/", "No route found for path 'ws/\\x01\\x7f\\xa0/'.")]
    [InlineData("/ws/\u2028\u200b/", "No route found for path 'ws/\\u2028\\u200b/'.")]
    [InlineData("/ws/café 日本 😀/", "No route found for path 'ws/café 日本 😀/'.")]
    public async Task The_path_in_the_message_is_quoted_as_Python_repr_quotes_it(string path, string reason)
    {
        var logs = new RecordingLoggerProvider();
        var session = await RunAsync(new UrlRouter(Path("x/", new RecordingApplication())), path, LoggingTo(logs));

        Assert.Equal(reason, Assert.Single(session.Rejections).Reason);
        Assert.Equal(reason, Assert.Single(logs.Entries).Message);
    }

    [Fact]
    public async Task A_channel_scope_has_an_empty_path_and_is_rejected_by_a_router_without_an_empty_route()
    {
        var router = new UrlRouter(Path("ws/", new RecordingApplication()));

        var session = await RunAsync(router, Channel("thumbnails"));

        Assert.Equal((404, "No route found for path ''."), Assert.Single(session.Rejections));
    }
}
