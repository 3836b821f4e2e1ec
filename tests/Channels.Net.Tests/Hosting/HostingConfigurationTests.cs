using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>Configuration mistakes stop the host at start, with a message that names them.</summary>
public sealed class HostingConfigurationTests
{
    private static UrlRouter Router() => new(Path("ws/echo/", Consumer<EchoConsumer>()));

    [Theory]
    [InlineData(0, "MaxIncomingMessageSize")]
    [InlineData(-1, "MaxIncomingMessageSize")]
    [InlineData(int.MaxValue, "MaxIncomingMessageSize")]
    public async Task An_out_of_range_message_size_stops_the_host_at_start(int size, string named)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => KestrelHost.StartAsync(
            app => app.MapChannels(Router()),
            options => options.MaxIncomingMessageSize = size));

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zero_handshake_timeout_stops_the_host_at_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => KestrelHost.StartAsync(
            app => app.MapChannels(Router()),
            options => options.HandshakeTimeout = TimeSpan.Zero));

        Assert.Contains("HandshakeTimeout", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_channel_its_router_does_not_map_stops_the_host_at_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => KestrelHost.StartAsync(
            _ => { },
            channels: c => c.AddWorker(new ChannelNameRouter { { "thumbnails", Consumer<ThumbnailConsumer>() } }, "thumbnails", "resize")));

        Assert.Contains("'resize'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_a_second_worker_or_a_bad_channel_name_fails_at_once()
    {
        var services = new ServiceCollection();
        var builder = services.AddChannels(c => c.AddInMemoryLayer());
        Assert.ThrowsAny<ArgumentException>(() => builder.AddWorker(Consumer<ThumbnailConsumer>(), "bad name!"));
        builder.AddWorker(Consumer<ThumbnailConsumer>(), "thumbnails");
        Assert.Throws<InvalidOperationException>(() => builder.AddWorker(Consumer<ThumbnailConsumer>(), "other"));
    }

    [Fact]
    public async Task MapChannels_refuses_null()
    {
        await using var host = await KestrelHost.StartAsync(_ => { });
        Assert.Throws<ArgumentNullException>(() => host.App.MapChannels(null!));
        Assert.Throws<ArgumentNullException>(() => ChannelsApplicationBuilderExtensions.MapChannels(null!, Router()));
    }
}
