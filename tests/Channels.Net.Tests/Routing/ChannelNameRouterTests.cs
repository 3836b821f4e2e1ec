using Channels.Net.Routing;
using Microsoft.Extensions.Logging;
using static Channels.Net.Tests.Routing.RoutingHarness;

namespace Channels.Net.Tests.Routing;

public sealed class ChannelNameRouterTests
{
    [Fact]
    public async Task Each_channel_goes_to_its_application()
    {
        var generate = new RecordingApplication("generate");
        var delete = new RecordingApplication("delete");
        var router = new ChannelNameRouter(new Dictionary<string, IChannelApplication>
        {
            ["thumbnails-generate"] = generate,
            ["thumbnails-delete"] = delete,
        });

        var session = await RunAsync(router, Channel("thumbnails-delete"));

        Assert.Empty(session.Rejections);
        Assert.Empty(generate.Scopes);
        Assert.Equal("thumbnails-delete", delete.Scope.Channel);
    }

    [Fact]
    public async Task The_indexer_initializer_form_works_and_refuses_a_duplicate()
    {
        var app = new RecordingApplication();
        var router = new ChannelNameRouter { ["thumbnails"] = app };
        Assert.Throws<ArgumentException>(() => router["thumbnails"] = new RecordingApplication());

        await RunAsync(router, Channel("thumbnails"));

        Assert.Single(app.Scopes);
        Assert.Same(app, router["thumbnails"]);
        Assert.Throws<KeyNotFoundException>(() => router["other"]);
        var protocols = new ProtocolTypeRouter { ["websocket"] = app };
        Assert.Same(app, protocols["websocket"]);
    }

    [Fact]
    public async Task The_collection_initializer_form_works()
    {
        var app = new RecordingApplication();
        var router = new ChannelNameRouter { { "thumbnails", app } };

        await RunAsync(router, Channel("thumbnails"));

        Assert.Single(app.Scopes);
        Assert.Equal([app], router.Applications);
        Assert.Same(app, router.ApplicationMapping["thumbnails"]);
    }

    [Fact]
    public async Task An_unknown_channel_is_rejected_with_404_and_logged()
    {
        var logs = new RecordingLoggerProvider();
        var router = new ChannelNameRouter { { "thumbnails", new RecordingApplication() } };

        var session = await RunAsync(router, Channel("emails", LoggingTo(logs)));

        Assert.Equal((404, "No application configured for channel name 'emails'"), Assert.Single(session.Rejections));
        var entry = Assert.Single(logs.Entries);
        Assert.Equal(typeof(ChannelNameRouter).FullName, entry.Category);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal("No application configured for channel name 'emails'", entry.Message);
    }

    [Fact]
    public async Task A_scope_without_a_channel_is_rejected_and_logged_as_a_warning()
    {
        var logs = new RecordingLoggerProvider();
        var router = new ChannelNameRouter { { "thumbnails", new RecordingApplication() } };

        var session = await RunAsync(router, WebSocket("/ws/", LoggingTo(logs)));

        const string reason = "ChannelNameRouter got a scope without a 'channel' key. Did you make sure it's only being used for 'channel' type messages?";
        Assert.Equal((404, reason), Assert.Single(session.Rejections));
        var entry = Assert.Single(logs.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(reason, entry.Message);
    }

    [Fact]
    public async Task Channel_names_compare_ordinally_and_without_a_logger_still_reject()
    {
        var app = new RecordingApplication();
        var router = new ChannelNameRouter { { "thumbnails", app } };

        var session = await RunAsync(router, Channel("Thumbnails", NoServices));

        Assert.Empty(app.Scopes);
        Assert.Equal((404, "No application configured for channel name 'Thumbnails'"), Assert.Single(session.Rejections));
    }

    [Fact]
    public async Task Bad_configuration_is_refused()
    {
        var router = new ChannelNameRouter { { "a", new RecordingApplication() } };

        Assert.Throws<ArgumentException>(() => router.Add("a", new RecordingApplication()));
        Assert.Throws<ArgumentNullException>(() => router.Add(null!, new RecordingApplication()));
        Assert.Throws<ArgumentNullException>(() => router.Add("b", null!));
        await RunAsync(router, Channel("a"));
        Assert.Throws<InvalidOperationException>(() => router.Add("b", new RecordingApplication()));
    }
}
