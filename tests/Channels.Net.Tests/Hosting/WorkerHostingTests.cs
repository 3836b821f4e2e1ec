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
