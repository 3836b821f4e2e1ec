using Channels.Net.Layers;
using Channels.Net.Routing;
using Channels.Net.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Channels.Net.Consumers.ConsumerApplications;

namespace Channels.Net.Tests.Testing;

public sealed class ApplicationCommunicatorTests
{
    [Fact]
    public async Task A_worker_handles_typed_events_in_order_and_reports_on_the_layer()
    {
        await using var services = CommunicatorServices.Create();
        await using var worker = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails", services);
        var replies = await worker.ChannelLayer.NewChannelAsync();

        await worker.SendInputAsync(new { type = "thumbnail.generate", id = 7, width = 640, height = 480, reply_channel = replies });
        await worker.SendInputAsync(new GenerateThumbnailMessage(8, 100, 50, replies));

        var first = await worker.ReceiveFromLayerAsync(replies);
        var second = await worker.ReceiveFromLayerAsync(replies);
        Assert.Equal(("thumbnail.done", 7L, "64x48", 1L, "thumbnails"), (first.Type, first.GetInt64("id"), first.GetString("size"), first.GetInt64("handled"), first.GetString("channel")));
        Assert.Equal((8L, "10x5", 2L), (second.GetInt64("id"), second.GetString("size"), second.GetInt64("handled")));
        await worker.StopAsync();
    }

    [Fact]
    public async Task What_a_worker_sends_to_a_group_is_received_by_its_members()
    {
        await using var services = CommunicatorServices.Create();
        var layer = services.GetRequiredService<IChannelLayer>();
        var member = await layer.NewChannelAsync();
        await layer.GroupAddAsync("gallery", member);
        await using var worker = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails", services);

        await worker.SendInputAsync(new { type = "thumbnail.publish", id = 3, group = "gallery" });

        var published = await worker.ReceiveFromLayerAsync(member);
        Assert.Equal(("thumbnail.published", 3L), (published.Type, published.GetInt64("id")));
    }

    [Fact]
    public async Task A_channel_name_router_serves_its_channel()
    {
        await using var services = CommunicatorServices.Create();
        var router = new ChannelNameRouter { { "thumbnails-generate", Consumer<ThumbnailWorker>() } };
        await using var worker = new ApplicationCommunicator(router, "thumbnails-generate", services);
        var replies = await worker.ChannelLayer.NewChannelAsync();

        await worker.SendInputAsync(new { type = "thumbnail.generate", id = 1, width = 10, height = 10, reply_channel = replies });

        Assert.Equal("thumbnails-generate", (await worker.ReceiveFromLayerAsync(replies)).GetString("channel"));
    }

    [Fact]
    public async Task A_channel_the_router_does_not_know_surfaces_as_the_applications_exception()
    {
        var router = new ChannelNameRouter { { "known", Consumer<ThumbnailWorker>() } };
        await using var worker = new ApplicationCommunicator(router, "unknown");
        await worker.SendInputAsync(new { type = "anything" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.WaitAsync());

        Assert.Contains("No application configured for channel name 'unknown'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_consumer_ends_the_worker_and_stop_ends_an_idle_one()
    {
        await using var stopping = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails");
        await stopping.SendInputAsync(new { type = "thumbnail.stop", tag = "itself" });
        await stopping.WaitAsync();
        Assert.Equal(1, ThumbnailWorker.Stopped["itself"]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => stopping.SendInputAsync(new { type = "thumbnail.stop", tag = "again" }));

        await using var idle = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails");
        await idle.SendInputAsync(new { type = "thumbnail.publish", id = 1, group = "nobody-listens" });
        await Assert.ThrowsAsync<ApplicationTimeoutException>(() => idle.WaitAsync(TimeSpan.FromMilliseconds(100)));
        await idle.StopAsync(); // The worker stopping (a server shutting down) ends the consumer.
        await Assert.ThrowsAsync<InvalidOperationException>(() => idle.SendInputAsync(new { type = "thumbnail.publish", id = 2, group = "x" }));
    }

    [Fact]
    public async Task A_worker_handler_that_throws_ends_the_consumer()
    {
        await using var worker = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails");
        await worker.SendInputAsync(new { type = "thumbnail.crash" });

        // The consumer logs the failure and ends, as a WebSocket consumer closes with 1011;
        // the worker service then starts it again.
        await worker.WaitAsync();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.SendInputAsync(new { type = "thumbnail.crash" }));
        Assert.Contains("has ended", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_application_exception_surfaces_from_wait_receive_and_send()
    {
        var application = new LambdaApplication(async (scope, session) =>
        {
            var message = await ((IWorkerSession)session).ReceiveAsync();
            throw new CommunicatorTestException($"failed on {message.Type}");
        });
        await using var worker = new ApplicationCommunicator(application, "failing");
        var replies = await worker.ChannelLayer.NewChannelAsync();
        await worker.SendInputAsync(new { type = "job.bad" });

        var fromReceive = await Assert.ThrowsAsync<CommunicatorTestException>(() => worker.ReceiveFromLayerAsync(replies, TimeSpan.FromSeconds(5)));
        var fromWait = await Assert.ThrowsAsync<CommunicatorTestException>(() => worker.WaitAsync());
        var fromSend = await Assert.ThrowsAsync<CommunicatorTestException>(() => worker.SendInputAsync(new { type = "job.next" }));

        Assert.Equal("failed on job.bad", fromReceive.Message);
        Assert.Same(fromReceive, fromWait);
        Assert.Same(fromReceive, fromSend);
    }

    [Fact]
    public async Task Nothing_on_the_layer_times_out_and_a_worker_that_will_not_end_times_out_its_wait()
    {
        await using var worker = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails");
        var replies = await worker.ChannelLayer.NewChannelAsync();
        await worker.SendInputAsync(new { type = "thumbnail.publish", id = 1, group = "nobody" });

        await Assert.ThrowsAsync<ApplicationTimeoutException>(() => worker.ReceiveFromLayerAsync(replies, TimeSpan.FromMilliseconds(100)));
        var error = await Assert.ThrowsAsync<ApplicationTimeoutException>(() => worker.WaitAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Contains("did not finish within 0.1 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Methods_called_in_the_wrong_order_say_so()
    {
        await using var worker = new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "thumbnails");

        var wait = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.WaitAsync());
        var stop = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.StopAsync());
        Assert.Contains("send it a message with SendInputAsync first", wait.Message, StringComparison.Ordinal);
        Assert.Equal(wait.Message, stop.Message);

        await worker.SendInputAsync(new { type = "thumbnail.publish", id = 1, group = "g" });
        Assert.Throws<InvalidOperationException>(() => worker.Scope = worker.Scope with { Channel = "other" });
        await Assert.ThrowsAsync<InvalidChannelMessageException>(() => worker.SendInputAsync(new { id = 1 }));
        Assert.Throws<InvalidChannelNameException>(() => new ApplicationCommunicator(Consumer<ThumbnailWorker>(), "not a channel"));
    }

    private sealed record GenerateThumbnailMessage(int Id, int Width, int Height, string ReplyChannel)
    {
        public string Type => "thumbnail.generate";
    }
}
