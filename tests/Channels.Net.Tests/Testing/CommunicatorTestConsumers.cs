using System.Collections.Concurrent;
using System.Text;
using Channels.Net.Consumers;
using Channels.Net.Layers;

namespace Channels.Net.Tests.Testing;

/// <summary>Answers with the method, path and query it was asked for.</summary>
public sealed class HelloHttpConsumer : AsyncHttpConsumer
{
    public override Task HandleAsync(byte[] body) =>
        SendResponseAsync(
            200,
            Encoding.UTF8.GetBytes($"{Scope.Method} {Scope.Path}?{Scope.QueryString} from {Scope.GetHeader("user-agent")}"),
            [new("content-type", "text/plain; charset=utf-8"), new("x-scope-type", Scope.Type)]);
}

/// <summary>Echoes the request body with the request's content type, in two body parts.</summary>
public sealed class EchoBodyHttpConsumer : AsyncHttpConsumer
{
    public static ConcurrentDictionary<string, int> Disconnects { get; } = new(StringComparer.Ordinal);

    public override async Task HandleAsync(byte[] body)
    {
        await SendHeadersAsync(201, [new("content-type", Scope.GetHeader("content-type") ?? "application/octet-stream")]);
        await SendBodyAsync(body.AsMemory(0, body.Length / 2), moreBody: true);
        await SendBodyAsync(body.AsMemory(body.Length / 2));
    }

    public override Task DisconnectAsync()
    {
        Disconnects.AddOrUpdate(Scope.Path, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

/// <summary>Fails in its handler; records how often its disconnect hook runs, per path.</summary>
public sealed class FailingHttpConsumer : AsyncHttpConsumer
{
    public static ConcurrentDictionary<string, int> Disconnects { get; } = new(StringComparer.Ordinal);

    public override Task HandleAsync(byte[] body) => throw new InvalidOperationException("handler failed");

    public override Task DisconnectAsync()
    {
        Disconnects.AddOrUpdate(Scope.Path, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

public sealed record NewsItem(string Text);

/// <summary>
/// Server-sent events fed by the channel layer: joins the group named by the query string, streams
/// every <c>news.item</c> as an event, and ends the response on <c>news.end</c>.
/// </summary>
public sealed class NewsEventsConsumer : AsyncHttpConsumer
{
    public static ConcurrentDictionary<string, int> Disconnects { get; } = new(StringComparer.Ordinal);

    /// <summary>The consumer's channel, by group.</summary>
    public static ConcurrentDictionary<string, string> Channels { get; } = new(StringComparer.Ordinal);

    private string Group => Scope.QueryString;

    public override async Task HandleAsync(byte[] body)
    {
        Channels[Group] = ChannelName;
        await ChannelLayer.GroupAddAsync(Group, ChannelName);
        await SendHeadersAsync(200, [new("content-type", "text/event-stream"), new("cache-control", "no-cache")]);
        await SendBodyAsync(": connected\n\n"u8.ToArray(), moreBody: true);
    }

    [ChannelEvent("news.item")]
    public Task Item(NewsItem item) => SendBodyAsync(Encoding.UTF8.GetBytes($"data: {item.Text}\n\n"), moreBody: true);

    [ChannelEvent("news.end")]
    public Task End() => SendBodyAsync("event: end\ndata: bye\n\n"u8.ToArray(), moreBody: false);

    [ChannelEvent("news.fail")]
    public Task Fail() => throw new InvalidOperationException("the feed broke");

    public override Task DisconnectAsync()
    {
        Disconnects.AddOrUpdate(Group, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

/// <summary>Django's raw style: a generic consumer answering <c>http.request</c> with base sends.</summary>
public sealed class RawHttpConsumer : AsyncConsumer
{
    public static ConcurrentQueue<string> Disconnects { get; } = new();

    [ChannelEvent("http.request")]
    public async Task Request(ChannelMessage message)
    {
        var body = message.GetBytes("body")!.Value.ToArray();
        await BaseSendAsync(new { type = "http.response.start", status = 202, headers = new[] { new[] { "x-raw", "yes" } } });
        await BaseSendAsync(new { type = "http.response.body", body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).ToUpperInvariant()) });
    }

    [ChannelEvent("http.disconnect")]
    public void Disconnect() => Disconnects.Enqueue(Scope.Path);
}

/// <summary>Never answers, and ignores cancellation for <c>?stubborn</c>.</summary>
public sealed class SilentHttpConsumer : AsyncHttpConsumer
{
    public static ConcurrentDictionary<string, int> Disconnects { get; } = new(StringComparer.Ordinal);

    public override Task HandleAsync(byte[] body) => Task.CompletedTask;

    public override Task DisconnectAsync()
    {
        Disconnects.AddOrUpdate(Scope.Path, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

public sealed record GenerateThumbnail(int Id, int Width, int Height, string ReplyChannel);

public sealed record PublishThumbnail(int Id, string Group);

/// <summary>A worker (Django's <c>runworker</c> consumer) with typed handlers that reports on the layer.</summary>
public sealed class ThumbnailWorker : AsyncConsumer
{
    public static ConcurrentDictionary<string, int> Stopped { get; } = new(StringComparer.Ordinal);

    private int _handled;

    [ChannelEvent("thumbnail.generate")]
    public Task Generate(GenerateThumbnail job) =>
        ChannelLayer.SendAsync(job.ReplyChannel, new
        {
            type = "thumbnail.done",
            id = job.Id,
            size = $"{job.Width / 10}x{job.Height / 10}",
            handled = ++_handled,
            channel = Scope.Channel,
        }).AsTask();

    [ChannelEvent("thumbnail.publish")]
    public Task Publish(PublishThumbnail job) =>
        ChannelLayer.GroupSendAsync(job.Group, new { type = "thumbnail.published", id = job.Id }).AsTask();

    [ChannelEvent("thumbnail.stop")]
    public Task Stop(ChannelMessage message)
    {
        Stopped.AddOrUpdate(message.GetString("tag")!, 1, (_, n) => n + 1);
        throw new StopConsumerException();
    }

    [ChannelEvent("thumbnail.crash")]
    public Task Crash() => throw new InvalidOperationException("worker crashed");
}

/// <summary>An application written as a lambda, for communicator edge cases.</summary>
public sealed class LambdaApplication(Func<ChannelScope, IChannelSession, ValueTask> run) : IChannelApplication
{
    public ValueTask RunAsync(ChannelScope scope, IChannelSession session) => run(scope, session);
}

public sealed class CommunicatorTestException(string message) : Exception(message);
