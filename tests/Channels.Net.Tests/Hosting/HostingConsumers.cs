using Microsoft.AspNetCore.Http;
using System.Text;
using Channels.Net.Consumers;
using Channels.Net.Layers;

namespace Channels.Net.Tests.Hosting;

/// <summary>Echoes every message back as it came (text as text, bytes as bytes); reports disconnects.</summary>
public sealed class EchoConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override Task ReceiveAsync(string? text, byte[]? bytes)
    {
        probe.Add(text is not null ? $"text:{text.Length}" : $"bytes:{bytes!.Length}");
        return text is not null ? SendAsync(text) : SendAsync(bytes!);
    }

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}

/// <summary>Accepts with the client's "chat.v2" subprotocol and extra response headers.</summary>
public sealed class HandshakeConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override Task ConnectAsync()
    {
        probe.SetScope(Scope);
        var chosen = Scope.Subprotocols.LastOrDefault(p => p.StartsWith("chat.", StringComparison.Ordinal));
        return AcceptAsync(chosen, [new("x-channels", "accepted"), new("x-room", "lobby")]);
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) => SendAsync("ok:" + text);
}

/// <summary>Closes before accepting: the handshake is refused with 403.</summary>
public sealed class ClosingBeforeAcceptConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override Task ConnectAsync() => CloseAsync();

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}

/// <summary>Throws <see cref="DenyConnectionException"/> from connect.</summary>
public sealed class DenyingConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override Task ConnectAsync() => throw new DenyConnectionException();

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}

/// <summary>Returns from connect without accepting or refusing.</summary>
public sealed class SilentConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override Task ConnectAsync()
    {
        probe.Add("connect");
        return Task.CompletedTask;
    }

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}

/// <summary>Never returns from connect (until the connection is aborted).</summary>
public sealed class HangingConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override async Task ConnectAsync()
    {
        probe.Add("connect");
        try
        {
            await Task.Delay(Timeout.Infinite, Aborted);
        }
        catch (OperationCanceledException)
        {
            probe.Add("connect-aborted");
            throw;
        }
    }

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}

/// <summary>Joins group "closers"; commands: "close" (4000, "bye"), "throw", "stop", "echo:x".</summary>
public sealed class CommandConsumer(Probe probe) : AsyncWebSocketConsumer
{
    protected override IReadOnlyList<string> Groups => ["closers"];

    public override Task ConnectAsync()
    {
        probe.Add("connect");
        return AcceptAsync();
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) => text switch
    {
        "close" => CloseAsync(4000, "bye"),
        "throw" => throw new InvalidOperationException("the handler failed on purpose"),
        "stop" => throw new StopConsumerException(),
        _ => SendAsync("echo:" + text),
    };

    [ChannelEvent("closers.notice")]
    public Task Notice(ChannelMessage message) => SendAsync("notice:" + message.GetString("text"));

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}

public sealed record ChatLine(string Message);

/// <summary>The tutorial's room chat (DESIGN.md).</summary>
public sealed class RoomChatConsumer(Probe probe) : AsyncWebSocketConsumer
{
    private string _room = "";

    public override async Task ConnectAsync()
    {
        _room = Scope.UrlRoute.Kwargs["room"].ToString()!;
        await ChannelLayer.GroupAddAsync(_room, ChannelName);
        await AcceptAsync();
        probe.Add("joined:" + _room);
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) =>
        ChannelLayer.GroupSendAsync(_room, new { type = "chat.message", message = text }).AsTask();

    [ChannelEvent("chat.message")]
    public Task ChatMessage(ChatLine e) => SendAsync(e.Message);

    public override async Task DisconnectAsync(int code)
    {
        await ChannelLayer.GroupDiscardAsync(_room, ChannelName);
        probe.Add($"left:{_room}:{code}");
    }
}

/// <summary>A scoped service: one per connection.</summary>
public sealed class ConnectionCounter
{
    public Guid Id { get; } = Guid.NewGuid();
}

/// <summary>Records the scope and the services it was built with, then accepts with the client's first subprotocol.</summary>
public sealed class ScopeConsumer(Probe probe, ConnectionCounter injected) : AsyncWebSocketConsumer
{
    public override Task ConnectAsync()
    {
        var resolved = (ConnectionCounter)Scope.RequestServices.GetService(typeof(ConnectionCounter))!;
        probe.Bag["injected"] = injected.Id;
        probe.Bag["resolved"] = resolved.Id;
        probe.Bag["session"] = Scope.Session is { } session ? session.GetString("colour") : "(no session)";
        probe.SetScope(Scope);
        return AcceptAsync(Scope.Subprotocols.FirstOrDefault());
    }

    public override Task ReceiveAsync(string? text, byte[]? bytes) => SendAsync("user:" + Scope.User.Identity?.Name);
}

/// <summary>A whole HTTP response with headers and a body.</summary>
public sealed class HelloHttpConsumer : AsyncHttpConsumer
{
    public override Task HandleAsync(byte[] body) =>
        SendResponseAsync(
            201,
            Encoding.UTF8.GetBytes($"hello {Scope.UrlRoute.Kwargs["name"]} via {Scope.Method} {Scope.Scheme}"),
            [new("content-type", "text/plain; charset=utf-8"), new("x-consumer", "hello"), new("x-multi", "1"), new("x-multi", "2")]);
}

/// <summary>Echoes the request body with its content type.</summary>
public sealed class BodyEchoHttpConsumer(Probe probe) : AsyncHttpConsumer
{
    public override Task HandleAsync(byte[] body)
    {
        probe.Add($"body:{body.Length}");
        return SendResponseAsync(200, body, [new("content-type", Scope.GetHeader("content-type") ?? "application/octet-stream"), new("x-length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    public override Task DisconnectAsync()
    {
        probe.Add("http-disconnect");
        return Task.CompletedTask;
    }
}

/// <summary>Fails while handling the request.</summary>
public sealed class FailingHttpConsumer(Probe probe) : AsyncHttpConsumer
{
    public override Task HandleAsync(byte[] body) => throw new InvalidOperationException("the http handler failed on purpose");

    public override Task DisconnectAsync()
    {
        probe.Add("http-disconnect");
        return Task.CompletedTask;
    }
}

public sealed record NewsItem(string Text);

/// <summary>Server-sent events fed by group "news"; "news.end" completes the response.</summary>
public sealed class NewsStreamConsumer(Probe probe) : AsyncHttpConsumer
{
    public override async Task HandleAsync(byte[] body)
    {
        await ChannelLayer.GroupAddAsync("news", ChannelName);
        await SendHeadersAsync(200, [new("content-type", "text/event-stream"), new("cache-control", "no-cache")]);
        await SendBodyAsync(Encoding.UTF8.GetBytes(": stream open\n\n"), moreBody: true);
    }

    [ChannelEvent("news.item")]
    public Task Item(NewsItem item) => SendBodyAsync(Encoding.UTF8.GetBytes($"data: {item.Text}\n\n"), moreBody: true);

    [ChannelEvent("news.crash")]
    public Task Crash(ChannelMessage message) => throw new InvalidOperationException("the stream failed on purpose");

    [ChannelEvent("news.end")]
    public Task End(ChannelMessage message) => SendBodyAsync(Encoding.UTF8.GetBytes("event: end\ndata: bye\n\n"), moreBody: false);

    public override Task DisconnectAsync()
    {
        probe.Add("http-disconnect");
        return Task.CompletedTask;
    }
}

public sealed record GenerateThumbnail(int Id);

/// <summary>A worker consumer: generates "thumbnails", failing for negative ids.</summary>
public sealed class ThumbnailConsumer(Probe probe) : AsyncConsumer
{
    [ChannelEvent("thumbnail.generate")]
    public Task Generate(GenerateThumbnail job)
    {
        if (job.Id < 0)
        {
            throw new InvalidOperationException($"thumbnail {job.Id} cannot be generated");
        }

        probe.Add($"thumbnail:{job.Id}:{Scope.Type}:{Scope.Channel}");
        return Task.CompletedTask;
    }
}

/// <summary>Misbehaves in connect as the query string says: "protocol" picks a subprotocol the client did not offer, "header" an invalid header.</summary>
public sealed class BadAcceptConsumer(Probe probe) : AsyncWebSocketConsumer
{
    public override Task ConnectAsync() => Scope.QueryString switch
    {
        "protocol" => AcceptAsync("not-offered"),
        "header" => AcceptAsync(null, [new("x-bad", "line\r\nbreak")]),
        "handshake-header" => AcceptAsync(null, [new("Sec-WebSocket-Accept", "forged")]),
        _ => AcceptAsync(),
    };

    public override Task DisconnectAsync(int code)
    {
        probe.Add($"disconnect:{code}");
        return Task.CompletedTask;
    }
}
