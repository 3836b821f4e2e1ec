using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Testing;

/// <summary>
/// Drives a worker application in process (asgiref's <c>ApplicationCommunicator</c> for a
/// <c>channel</c> scope, as Django's <c>runworker</c> serves it): the application runs with
/// <c>ChannelScope { Type = "channel", Channel = … }</c>, the messages the test sends with
/// <see cref="SendInputAsync"/> arrive as if sent to that channel, and what the worker does — usually
/// sends on the channel layer — the test observes on <see cref="ChannelLayer"/>, for example with
/// <see cref="ReceiveFromLayerAsync"/>.
/// </summary>
/// <example>
/// <code>
/// await using var worker = new ApplicationCommunicator(Consumer&lt;ThumbnailConsumer&gt;(), "thumbnails");
/// var replies = await worker.ChannelLayer.NewChannelAsync();
/// await worker.SendInputAsync(new { type = "thumbnail.generate", id = 7, reply_channel = replies });
/// var done = await worker.ReceiveFromLayerAsync(replies);
/// Assert.Equal("thumbnail.done", done.Type);
/// </code>
/// </example>
public sealed class ApplicationCommunicator : IAsyncDisposable
{
    private readonly IChannelApplication _application;
    private readonly ApplicationRun _run = new("The application has not started: send it a message with SendInputAsync first.");
    private readonly Lock _gate = new();
    private CommunicatorWorkerSession? _session;
    private ChannelScope _scope;

    /// <summary>Creates a communicator that serves <paramref name="channel"/> with <paramref name="application"/>.</summary>
    /// <param name="application">The application under test: a consumer or a <c>ChannelNameRouter</c>.</param>
    /// <param name="channel">The channel the worker serves (its <see cref="ChannelScope.Channel"/>).</param>
    /// <param name="services">The worker's services; by default <see cref="CommunicatorServices.Default"/>, with an in-memory <c>default</c> layer.</param>
    /// <exception cref="Layers.InvalidChannelNameException"><paramref name="channel"/> is not a valid channel name.</exception>
    public ApplicationCommunicator(IChannelApplication application, string channel, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        ChannelNames.RequireValidChannelName(channel);
        _application = application;
        _scope = new ChannelScope
        {
            Type = ChannelScopeType.Channel,
            Channel = channel,
            RequestServices = services ?? CommunicatorServices.Default,
        };
    }

    /// <summary>The scope the application gets; change it before the first <see cref="SendInputAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">Set after the application started.</exception>
    public ChannelScope Scope
    {
        get => _scope;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
            {
                if (_run.Started)
                {
                    throw new InvalidOperationException("The scope cannot change once the application started: it already has it.");
                }

                _scope = value;
            }
        }
    }

    /// <summary>The <c>default</c> channel layer of the worker's services (Django's <c>get_channel_layer()</c>),
    /// where the test sends and receives to observe the worker.</summary>
    /// <exception cref="InvalidChannelLayerException">The services have no <c>default</c> layer.</exception>
    public IChannelLayer ChannelLayer => GetChannelLayer(ChannelLayersOptions.DefaultAlias);

    /// <summary>The channel layer configured under <paramref name="alias"/> in the worker's services.</summary>
    /// <exception cref="InvalidChannelLayerException">No layer is configured under <paramref name="alias"/>.</exception>
    public IChannelLayer GetChannelLayer(string alias)
    {
        var manager = _scope.RequestServices.GetService<IChannelLayerManager>()
            ?? throw new InvalidChannelLayerException("The worker's services have no channel layers; add them with AddChannels(c => c.AddInMemoryLayer()).");
        return manager.GetLayer(alias);
    }

    /// <summary>
    /// Sends <paramref name="message"/> to the worker's channel (asgiref's <c>send_input</c>): any
    /// object with a string <c>type</c> (an anonymous object, a record, a dictionary, a
    /// <see cref="ChannelMessage"/>). The first call starts the application.
    /// </summary>
    /// <exception cref="InvalidChannelMessageException"><paramref name="message"/> is not a valid message.</exception>
    /// <exception cref="InvalidOperationException">The worker was stopped, or the application has ended
    /// (if it ended by throwing, that exception is thrown instead).</exception>
    public Task SendInputAsync(object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var converted = ChannelMessage.From(message);
        lock (_gate)
        {
            if (_session is null)
            {
                _session = new CommunicatorWorkerSession(_scope.Channel!);
                _run.Start(_application, _scope, _session);
            }
            else if (_session.IsStopping)
            {
                throw new InvalidOperationException("The worker was stopped; it takes no more input.");
            }
            else if (_run.Ended)
            {
                _run.ThrowIfFailed();
                throw new InvalidOperationException("The application has ended; it takes no more input.");
            }

            _session.Post(converted);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The next message on <paramref name="channel"/> of the <c>default</c> layer — where the worker
    /// sent its result. If the application fails meanwhile, its exception surfaces instead.
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">No message came within <paramref name="timeout"/> (default 5 s).</exception>
    public async Task<ChannelMessage> ReceiveFromLayerAsync(string channel, TimeSpan? timeout = null)
    {
        var layer = ChannelLayer;
        var wait = timeout ?? ApplicationRun.DefaultTimeout;
        using var cts = new CancellationTokenSource(wait);
        var receive = layer.ReceiveAsync(channel, cts.Token).AsTask();
        if (_run.Started)
        {
            // Whichever comes first: the message, or the application failing.
            var ended = _run.Completion;
            await Task.WhenAny(receive, ended).ConfigureAwait(false);
            if (!receive.IsCompleted && !ended.IsCompletedSuccessfully)
            {
                await cts.CancelAsync().ConfigureAwait(false);
                await receive.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default).ConfigureAwait(false);
                _run.ThrowIfFailed();
            }
        }

        try
        {
            return await receive.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            _run.ThrowIfFailed();
            throw new ApplicationTimeoutException($"Nothing arrived on '{channel}' within {wait.TotalSeconds} s.");
        }
    }

    /// <summary>Waits for the application to finish, surfacing its exception if it failed (asgiref's <c>wait</c>).</summary>
    /// <exception cref="ApplicationTimeoutException">It did not finish within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The application was not started.</exception>
    public Task WaitAsync(TimeSpan? timeout = null) => _run.WaitAsync(timeout);

    /// <summary>
    /// Stops the worker as a server shutting down does: the session's <see cref="IChannelSession.Aborted"/>
    /// is cancelled; then waits for the application to finish, surfacing its exception if it failed
    /// (an <see cref="OperationCanceledException"/> caused by the stop is not a failure).
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">It did not finish within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The application was not started.</exception>
    public Task StopAsync(TimeSpan? timeout = null)
    {
        _run.EnsureStarted();
        _session!.Stop();
        return _run.WaitAsync(timeout);
    }

    /// <summary>Stops the worker if it is still running and lets it finish (a few seconds at most);
    /// never throws, so a failing test keeps its own error.</summary>
    public ValueTask DisposeAsync() => _run.DisposeAsync(() => _session?.Stop());
}
