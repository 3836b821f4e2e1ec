using System.Net;
using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// A connection's timeouts run on the <see cref="TimeProvider"/> of the app's services: with a fake clock they fire
/// when it is advanced, not before and not in real time (a 1-minute timeout here is tested in milliseconds).
/// </summary>
public sealed class ConnectionTimeoutFakeClockTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    private static Task<KestrelHost> StartAsync(FakeTimeProvider time) =>
        KestrelHost.StartAsync(
            app => app.MapChannels(new UrlRouter(
                Path("ws/silent/", Consumer<SilentConsumer>()),
                Path("ws/command/", Consumer<CommandConsumer>()))),
            options =>
            {
                options.HandshakeTimeout = Long;
                options.CloseTimeout = Long;
            },
            configure: builder => builder.Services.AddSingleton<TimeProvider>(time));

    [Fact]
    public async Task The_handshake_timeout_refuses_with_500_when_the_clock_passes_it()
    {
        var time = new FakeTimeProvider();
        await using var host = await StartAsync(time);

        var refused = WsClient.RefusedAsync(host.Ws("ws/silent/"));
        await host.Probe.WaitForAsync("connect");
        time.Advance(Long - TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.False(refused.IsCompleted); // not yet: a second is left on the clock

        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.InternalServerError, await refused.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(host.Logs.Entries, e => e.EventId.Id == 202);
    }

    [Fact]
    public async Task A_client_that_never_answers_the_servers_close_is_dropped_when_the_clock_passes_the_close_timeout()
    {
        var time = new FakeTimeProvider();
        await using var host = await StartAsync(time);
        await using var raw = await RawWebSocket.ConnectAsync(host.Port, "/ws/command/");
        await raw.SendTextAsync("close");
        var (_, opcode, _) = await raw.ReadFrameAsync();
        Assert.Equal(0x8, opcode);

        var dropped = raw.ServerClosedAsync();
        await Task.Delay(200);
        Assert.False(dropped.IsCompleted); // the server waits for the client's close frame

        time.Advance(Long);

        Assert.True(await dropped.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("disconnect:1006", await host.Probe.WaitForAsync("disconnect:"));
    }
}
