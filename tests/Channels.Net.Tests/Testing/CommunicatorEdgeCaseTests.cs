using System.Diagnostics;
using Channels.Net.Testing;
using static Channels.Net.Consumers.ConsumerApplications;

namespace Channels.Net.Tests.Testing;

/// <summary>What the communicators share: timeouts, surfaced exceptions, order checks, disposal.</summary>
public sealed class CommunicatorEdgeCaseTests
{
    [Fact]
    public async Task A_response_that_never_comes_times_out()
    {
        await using var communicator = new HttpCommunicator(Consumer<SilentHttpConsumer>(), "GET", "/silent/times-out/");

        var error = await Assert.ThrowsAsync<ApplicationTimeoutException>(() => communicator.GetResponseAsync(TimeSpan.FromMilliseconds(100)));

        Assert.Equal("The application sent nothing within 0.1 s.", error.Message);
        Assert.True(await communicator.ReceiveNothingAsync());
        await communicator.DisconnectAsync();
        Assert.Equal(1, SilentHttpConsumer.Disconnects["/silent/times-out/"]);
    }

    [Fact]
    public async Task An_http_application_exception_surfaces_after_what_it_sent()
    {
        var application = new LambdaApplication(async (scope, session) =>
        {
            var http = (IHttpSession)session;
            await http.StartResponseAsync(200);
            throw new CommunicatorTestException("after the start");
        });
        await using var communicator = new HttpCommunicator(application, "GET", "/");

        // What it sent before failing arrives first, then its exception, from every method.
        await communicator.SendRequestAsync();
        Assert.Equal(200, (await communicator.ReceiveResponseStartAsync()).Status);
        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.ReceiveBodyAsync());
        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.ReceiveNothingAsync());
        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.WaitAsync());
    }

    [Fact]
    public async Task An_application_that_ends_without_answering_is_reported_clearly()
    {
        await using var communicator = new HttpCommunicator(new LambdaApplication((_, _) => ValueTask.CompletedTask), "GET", "/");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.GetResponseAsync());

        Assert.Equal("The application has ended and sent nothing more.", error.Message);
    }

    [Fact]
    public async Task An_application_that_gives_up_because_the_client_left_has_ended_normally()
    {
        var application = new LambdaApplication(async (_, session) => await Task.Delay(Timeout.Infinite, session.Aborted));
        await using var http = new HttpCommunicator(application, "GET", "/");
        await http.SendRequestAsync();
        await http.DisconnectAsync();

        await using var webSocket = new WebSocketCommunicator(new LambdaApplication(async (_, session) =>
        {
            await ((IWebSocketSession)session).AcceptAsync();
            await Task.Delay(Timeout.Infinite, session.Aborted);
        }), "/");
        await webSocket.ConnectAsync();
        await webSocket.DisconnectAsync();

        await using var worker = new ApplicationCommunicator(application, "waits");
        await worker.SendInputAsync(new { type = "ignored" });
        await worker.StopAsync();
    }

    [Fact]
    public async Task A_websocket_application_exception_surfaces_from_receive_nothing_and_wait()
    {
        var application = new LambdaApplication(async (scope, session) =>
        {
            var webSocket = (IWebSocketSession)session;
            await webSocket.ReceiveAsync();
            await webSocket.AcceptAsync();
            await webSocket.ReceiveAsync();
            throw new CommunicatorTestException("on the first message");
        });
        await using var communicator = new WebSocketCommunicator(application, "/");
        Assert.True((await communicator.ConnectAsync()).Connected);
        await communicator.SendToAsync("boom");

        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.WaitAsync());
        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.ReceiveNothingAsync());
        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.ReceiveFromAsync());
        await Assert.ThrowsAsync<CommunicatorTestException>(() => communicator.SendToAsync("again"));
    }

    [Fact]
    public async Task Http_methods_called_in_the_wrong_order_say_so()
    {
        await using var communicator = new HttpCommunicator(Consumer<EchoBodyHttpConsumer>(), "POST", "/echo/order/", "body"u8.ToArray());

        var receive = await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.ReceiveOutputAsync());
        Assert.Contains("call GetResponseAsync, SendRequestAsync or SendRequestBodyAsync first", receive.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.ReceiveNothingAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.WaitAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.DisconnectAsync());
        var pieces = await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.SendRequestBodyAsync("more"u8.ToArray()));
        Assert.Contains("given the whole body in its constructor", pieces.Message, StringComparison.Ordinal);

        await communicator.SendRequestAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.SendRequestAsync());
        Assert.Throws<InvalidOperationException>(() => communicator.Scope = communicator.Scope with { Path = "/elsewhere/" });
        var body = await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.ReceiveBodyAsync());
        Assert.Contains("receive it with ReceiveResponseStartAsync first", body.Message, StringComparison.Ordinal);
        var start = await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.ReceiveResponseStartAsync());
        Assert.Contains("Expected the response start, but the application sent a body part", start.Message, StringComparison.Ordinal);

        await using var streaming = new HttpCommunicator(Consumer<EchoBodyHttpConsumer>(), "POST", "/echo/order-streaming/");
        await streaming.SendRequestBodyAsync("a"u8.ToArray(), moreBody: true);
        var early = await Assert.ThrowsAsync<InvalidOperationException>(() => streaming.GetResponseAsync());
        Assert.Contains("send its last part", early.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => streaming.SendRequestAsync());
        await streaming.SendRequestBodyAsync("b"u8.ToArray());
        await Assert.ThrowsAsync<InvalidOperationException>(() => streaming.SendRequestBodyAsync("c"u8.ToArray()));
        Assert.Equal("ab", (await streaming.GetResponseAsync()).Text);
    }

    [Fact]
    public async Task Websocket_methods_called_in_the_wrong_order_say_so()
    {
        await using var communicator = new WebSocketCommunicator(Consumer<Consumers.EchoConsumer>(), "/");

        Assert.Equal("Call ConnectAsync first.", (await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.SendToAsync("early"))).Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.ReceiveFromAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.WaitAsync());

        await communicator.ConnectAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.ConnectAsync());
        Assert.Throws<InvalidOperationException>(() => communicator.Scope = communicator.Scope with { Path = "/other/" });
        await communicator.DisconnectAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => communicator.SendToAsync("late"));
    }

    [Fact]
    public async Task Disposal_neither_throws_the_applications_exception_nor_hangs_on_an_application_that_will_not_end()
    {
        var failing = new HttpCommunicator(
            new LambdaApplication((_, _) => throw new CommunicatorTestException("never observed")), "GET", "/");
        await failing.SendRequestAsync();
        await Task.Delay(50);
        await failing.DisposeAsync(); // Does not throw: the test's own failure, if any, stays the one reported.

        var stubborn = new HttpCommunicator(
            new LambdaApplication(async (_, _) => await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None)), "GET", "/");
        await stubborn.SendRequestAsync();
        var clock = Stopwatch.StartNew();
        await stubborn.DisposeAsync();
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Disposal_disconnects_a_running_consumer()
    {
        var communicator = new HttpCommunicator(Consumer<SilentHttpConsumer>(), "GET", "/silent/disposed/");
        await communicator.SendRequestAsync();
        Assert.True(await communicator.ReceiveNothingAsync());

        await communicator.DisposeAsync();

        Assert.Equal(1, SilentHttpConsumer.Disconnects["/silent/disposed/"]);
    }
}
