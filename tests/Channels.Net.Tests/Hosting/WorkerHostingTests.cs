using Channels.Net.Layers;
using Channels.Net.Routing;
using Microsoft.Extensions.Logging;
using static Channels.Net.Consumers.ConsumerApplications;

namespace Channels.Net.Tests.Hosting;

/// <summary>A channel worker (Django's runworker) running in a real host beside Kestrel.</summary>
public sealed class WorkerHostingTests
{
    private static Task<KestrelHost> StartAsync() => KestrelHost.StartAsync(
        _ => { },
        channels: c => c.AddWorker(new ChannelNameRouter { ["thumbnails"] = Consumer<ThumbnailConsumer>() }, "thumbnails"));

    [Fact]
    public async Task A_worker_on_a_channel_its_router_does_not_map_stops_the_host_at_start_naming_both()
    {
        var start = () => KestrelHost.StartAsync(
            _ => { },
            channels: c => c.AddWorker(new ChannelNameRouter { ["thumbnails"] = Consumer<ThumbnailConsumer>() }, "thumbnails", "thumbnail"));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(start);

        Assert.Contains("'thumbnail'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ChannelNameRouter", refused.Message, StringComparison.Ordinal);
        Assert.Contains("it maps: thumbnails", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_router_of_the_applications_own_is_asked_through_IChannelNameRouter()
    {
        var start = () => KestrelHost.StartAsync(
            _ => { },
            channels: c => c.AddWorker(new PrefixChannelRouter("image-", Consumer<ThumbnailConsumer>()), "image-small", "video"));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(start);

        Assert.Contains("'video'", refused.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PrefixChannelRouter), refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'image-small'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_sent_to_the_channel_reaches_the_workers_typed_handler()
    {
        await using var host = await StartAsync();

        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 7 }).Within();

        Assert.Equal("thumbnail:7:channel:thumbnails", await host.Probe.WaitForAsync("thumbnail:"));
    }

    /// <summary>
    /// The consumer's decided semantics: a handler that throws ends the worker's consumer (logged), and the
    /// worker service starts it again after RestartDelay. Messages queued behind the failing one stay on the
    /// channel (the consumer takes one at a time), so none is lost.
    /// </summary>
    [Fact]
    public async Task A_handler_that_throws_is_logged_and_the_worker_serves_the_messages_queued_behind_it()
    {
        await using var host = await StartAsync();

        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = -1 }).Within();
        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 8 }).Within();
        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 9 }).Within();

        Assert.Equal("thumbnail:8:channel:thumbnails", await host.Probe.WaitForAsync("thumbnail:"));
        Assert.Equal("thumbnail:9:channel:thumbnails", await host.Probe.WaitForAsync("thumbnail:"));
        var failure = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal("thumbnail -1 cannot be generated", failure.Exception?.Message);
        Assert.Contains("thumbnail.generate", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_with_no_handler_is_logged_and_the_worker_goes_on()
    {
        await using var host = await StartAsync();

        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.unknown" }).Within();
        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 10 }).Within();

        Assert.Equal("thumbnail:10:channel:thumbnails", await host.Probe.WaitForAsync("thumbnail:"));
        Assert.Contains(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Exception?.Message.Contains("thumbnail.unknown", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_message_that_does_not_bind_to_the_handlers_record_is_logged_and_the_worker_goes_on()
    {
        await using var host = await StartAsync();

        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = "not a number" }).Within();
        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 11 }).Within();

        Assert.Equal("thumbnail:11:channel:thumbnails", await host.Probe.WaitForAsync("thumbnail:"));
        Assert.Contains(host.Logs.Entries, e => e.Level == LogLevel.Error);
    }

    [Fact]
    public async Task The_host_stops_promptly_with_a_worker_waiting_for_messages()
    {
        var host = await StartAsync();
        await host.Layer.SendAsync("thumbnails", new { type = "thumbnail.generate", id = 1 }).Within();
        await host.Probe.WaitForAsync("thumbnail:");
        var logs = host.Logs;
        var stopped = System.Diagnostics.Stopwatch.StartNew();

        await host.DisposeAsync();

        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2.5), $"Stopping took {stopped.Elapsed}: the worker held the shutdown.");
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning);
    }
}

/// <summary>A channel router of an application's own: every channel that starts with a prefix.</summary>
internal sealed class PrefixChannelRouter(string prefix, IChannelApplication application) : IChannelNameRouter
{
    public IReadOnlyCollection<string> ChannelNames => [prefix + "*"];

    public IEnumerable<IChannelApplication> Applications => [application];

    public bool Serves(string channel) => channel.StartsWith(prefix, StringComparison.Ordinal);

    public ValueTask RunAsync(ChannelScope scope, IChannelSession session) => application.RunAsync(scope, session);
}
