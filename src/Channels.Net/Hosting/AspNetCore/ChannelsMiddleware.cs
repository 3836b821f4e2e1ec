using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// Serves WebSocket requests (and, under a <c>ProtocolTypeRouter</c> with an <c>http</c> entry, HTTP
/// requests) with a Channels.Net application. A request the application has no route for goes on
/// down the pipeline, so MVC, minimal APIs and static files work beside it; if nothing else
/// answers it, ASP.NET Core's 404 does.
/// </summary>
internal sealed partial class ChannelsMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IChannelApplication _webSocket;
    private readonly IChannelApplication? _http;
    private readonly ChannelsOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;

    public ChannelsMiddleware(
        RequestDelegate next,
        ChannelApplicationSet applications,
        IOptions<ChannelsOptions> options,
        ILogger<ChannelsMiddleware> logger,
        IServiceProvider services,
        IHostApplicationLifetime? lifetime = null)
    {
        _next = next;
        _services = services;
        _webSocket = applications.WebSocket;
        _http = applications.Http;
        _options = options.Value;
        _options.Validate();
        _logger = logger;
        _stopping = lifetime?.ApplicationStopping ?? CancellationToken.None;
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System; // The connections' timeouts run on it (a FakeTimeProvider in tests).
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (context.WebSockets.IsWebSocketRequest)
        {
            return ServeWebSocketAsync(context);
        }

        return _http is null ? _next(context) : ServeHttpAsync(context, _http);
    }

    /// <summary>Serves one WebSocket. This is the one frame the request keeps while the connection lasts (besides
    /// the application's own), so it holds little: the application's failure is handled after it ended, outside it.</summary>
    private async Task ServeWebSocketAsync(HttpContext context)
    {
        using var session = new AspNetWebSocketSession(context, _options, _time, _logger);

        // Only the scope's request parts are kept here (to be read before the request ends); the scope
        // itself lives as long as the application keeps it.
        var parts = new HttpScopeParts(context, _services, webSocket: true);
        try
        {
            session.StartHandshakeTimer();
            session.CloseWhenStopping(_stopping);
            var running = Start(_webSocket, ScopeFactory.Create(context, ChannelScopeType.WebSocket, parts), session);
            if (!running.IsCompleted)
            {
                // The server may refuse the handshake itself (timeout, shutdown) while the application
                // still runs; the answer is written here, on the request's flow, never from a timer.
                // Once the handshake is settled, only the application is awaited.
                await Task.WhenAny(running, session.HandshakeSettled).ConfigureAwait(false);
                await session.WriteServerRefusalAsync().ConfigureAwait(false);
                await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (!running.IsCompletedSuccessfully)
            {
                await OnWebSocketApplicationFailedAsync(context, session, running).ConfigureAwait(false);
            }
        }
        finally
        {
            parts.Keep();
        }

        if (session.NotFound)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        await session.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>The application failed (not merely cancelled because its client left or the handshake timed out): logged, and answered 500 / closed 1011.</summary>
    private async Task OnWebSocketApplicationFailedAsync(HttpContext context, AspNetWebSocketSession session, Task running)
    {
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !session.Aborted.IsCancellationRequested)
        {
            LogApplicationFailed(_logger, ex, context.Request.Path);
            await session.RejectAsync(StatusCodes.Status500InternalServerError, "The application failed.").ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client left, or the handshake timed out.
        }
    }

    /// <summary>Runs the application as a task: a consumer's run already is one, so nothing is added.</summary>
    private static Task Start(IChannelApplication application, ChannelScope scope, IChannelSession session)
    {
        try
        {
            return application.RunAsync(scope, session).AsTask();
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private async Task ServeHttpAsync(HttpContext context, IChannelApplication application)
    {
        var session = new AspNetHttpSession(context, _logger, _stopping);
        var parts = new HttpScopeParts(context, _services, webSocket: false);
        var scope = ScopeFactory.Create(context, ChannelScopeType.Http, parts);
        using (session)
        {
            try
            {
                await application.RunAsync(scope, session).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !session.Aborted.IsCancellationRequested)
            {
                LogApplicationFailed(_logger, ex, context.Request.Path);
                await session.RejectAsync(StatusCodes.Status500InternalServerError, "The application failed.").ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException)
            {
                return; // The client left (or the server stops).
            }
            finally
            {
                parts.Keep();
            }

            if (session.NotFound)
            {
                await _next(context).ConfigureAwait(false);
            }
            else if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                LogNoResponse(_logger, context.Request.Path);
                await session.RejectAsync(StatusCodes.Status500InternalServerError, "The application ended without a response.").ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(220, LogLevel.Error, "The Channels.Net application failed serving {Path}.")]
    private static partial void LogApplicationFailed(ILogger logger, Exception exception, PathString path);

    [LoggerMessage(221, LogLevel.Error, "The Channels.Net application for {Path} ended without sending a response; answered 500.")]
    private static partial void LogNoResponse(ILogger logger, PathString path);
}

/// <summary>The applications <c>MapChannels</c> was given, by protocol.</summary>
internal sealed record ChannelApplicationSet(IChannelApplication WebSocket, IChannelApplication? Http);
