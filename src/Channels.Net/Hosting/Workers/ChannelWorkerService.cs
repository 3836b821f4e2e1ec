using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Channels.Net.Hosting.Workers;

/// <summary>
/// Django's <c>runworker</c> as a hosted service: for each configured channel it runs the
/// application (a <c>ChannelNameRouter</c>) with a <c>channel</c> scope, feeding it the messages
/// sent to that channel, so anything can <c>SendAsync("thumbnails", new { type = "thumbnail.generate", id = 7 })</c>.
/// An application that ends or fails is logged and started again after <see cref="ChannelWorkerOptions.RestartDelay"/>.
/// </summary>
internal sealed partial class ChannelWorkerService(
    IOptions<ChannelWorkerOptions> options,
    IChannelLayerManager layers,
    IServiceScopeFactory scopes,
    ILogger<ChannelWorkerService> logger) : BackgroundService
{
    private IChannelApplication? _application;
    private IChannelLayer? _layer;

    /// <summary>Checks the worker's settings and layer first, so a mistake stops the host at start with its message.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var application = settings.Application
            ?? throw new InvalidOperationException("A channel worker needs an application (AddWorker(router, channels)).");
        if (settings.Channels.Count == 0)
        {
            throw new InvalidOperationException("A channel worker needs at least one channel name to receive on.");
        }

        foreach (var channel in settings.Channels)
        {
            ChannelNames.RequireValidChannelName(channel);
            if (application is IChannelNameRouter router && !router.Serves(channel))
            {
                throw new InvalidOperationException(
                    $"The channel worker receives on '{channel}', but its {application.GetType().Name} has no application for it (it maps: {string.Join(", ", router.ChannelNames)}).");
            }
        }

        _layer = layers.GetLayer(settings.LayerAlias);
        _application = application;
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        return Task.WhenAll(settings.Channels.Select(channel => ServeAsync(_application!, _layer!, channel, settings.RestartDelay, stoppingToken)));
    }

    private async Task ServeAsync(IChannelApplication application, IChannelLayer layer, string channel, TimeSpan restartDelay, CancellationToken stoppingToken)
    {
        LogServing(logger, channel);
        while (!stoppingToken.IsCancellationRequested)
        {
            var services = scopes.CreateAsyncScope();
            await using (services.ConfigureAwait(false))
            {
                var scope = new ChannelScope
                {
                    Type = ChannelScopeType.Channel,
                    Channel = channel,
                    RequestServices = services.ServiceProvider,
                };
                try
                {
                    await application.RunAsync(scope, new LayerWorkerSession(layer, channel, stoppingToken)).ConfigureAwait(false);
                    if (!stoppingToken.IsCancellationRequested)
                    {
                        LogEnded(logger, channel);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    LogFailed(logger, ex, channel);
                }
            }

            try
            {
                await Task.Delay(restartDelay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(300, LogLevel.Information, "Channel worker receiving on '{Channel}'.")]
    private static partial void LogServing(ILogger logger, string channel);

    [LoggerMessage(301, LogLevel.Warning, "The worker application for '{Channel}' ended; starting it again.")]
    private static partial void LogEnded(ILogger logger, string channel);

    [LoggerMessage(302, LogLevel.Error, "The worker application for '{Channel}' failed; starting it again.")]
    private static partial void LogFailed(ILogger logger, Exception exception, string channel);
}
