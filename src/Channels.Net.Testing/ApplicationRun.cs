using System.Threading.Channels;

namespace Channels.Net.Testing;

/// <summary>
/// What every communicator shares (asgiref's <c>ApplicationCommunicator</c> core): one run of the
/// application under test, started once; waiting for it with a timeout; surfacing its exception;
/// and a disposal that lets it finish but never hangs, nor hides the test's own failure.
/// </summary>
internal class ApplicationRun(string notStartedMessage)
{
    /// <summary>
    /// How long a receive or a wait waits when the test gives no timeout. Django uses 1 s; here the
    /// first exchange of a test process also pays for JIT compilation (a first connect measured
    /// 250–800 ms on two busy cores), so 1 s made passing tests flaky. Only failing tests wait it out.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long <c>ReceiveNothingAsync</c> watches when the test gives no timeout (Django's 0.1 s).</summary>
    public static readonly TimeSpan DefaultNothingTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>How long disposal gives the application to finish after the client left.</summary>
    private static readonly TimeSpan s_disposeGrace = TimeSpan.FromSeconds(5);

    private Task? _running;

    /// <summary>True once the application was started.</summary>
    public bool Started => _running is not null;

    /// <summary>True once the application has returned or thrown.</summary>
    public bool Ended => _running is { IsCompleted: true };

    /// <summary>The running application: completes when it returns, faults when it throws.</summary>
    /// <exception cref="InvalidOperationException">It was not started yet.</exception>
    public Task Completion => Running;

    /// <summary>The running application.</summary>
    /// <exception cref="InvalidOperationException">It was not started yet.</exception>
    protected Task Running => _running ?? throw new InvalidOperationException(notStartedMessage);

    /// <summary>Starts <paramref name="application"/> on the thread pool; the caller checks it was not started before.</summary>
    public void Start(IChannelApplication application, ChannelScope scope, IChannelSession session)
    {
        if (_running is not null)
        {
            throw new InvalidOperationException("The application was already started.");
        }

        _running = RunAsync(application, scope, session);
    }

    /// <summary>Throws unless the application was started.</summary>
    public void EnsureStarted() => _ = Running;

    /// <summary>Rethrows the application's exception if it has ended by throwing.</summary>
    public void ThrowIfFailed()
    {
        if (_running is { IsCompleted: true, IsCompletedSuccessfully: false } ended)
        {
            ended.GetAwaiter().GetResult();
        }
    }

    /// <summary>Waits for the application to finish, surfacing its exception.</summary>
    /// <exception cref="ApplicationTimeoutException">It did not finish within <paramref name="timeout"/>.</exception>
    public async Task WaitAsync(TimeSpan? timeout)
    {
        var running = Running;
        var wait = timeout ?? DefaultTimeout;
        try
        {
            await running.WaitAsync(wait).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!running.IsCompleted)
        {
            throw new ApplicationTimeoutException($"The application did not finish within {wait.TotalSeconds} s.");
        }
    }

    /// <summary>
    /// Tells the application the client left (<paramref name="clientGone"/>) if it is still running,
    /// and gives it a few seconds to finish. Never throws: an exception here would replace the
    /// test's own failure (asgiref's <c>stop(exceptions=False)</c> on clean-up).
    /// </summary>
    public async ValueTask DisposeAsync(Action clientGone)
    {
        if (_running is null)
        {
            return;
        }

        if (!_running.IsCompleted)
        {
            try
            {
                clientGone();
                await _running.WaitAsync(s_disposeGrace).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A test that failed early must neither hang in its clean-up nor lose its own error.
            }
        }

        _ = _running.Exception; // Observed: no UnobservedTaskException later.
    }

    /// <summary>Runs when the application has ended, however it ended.</summary>
    protected virtual void OnEnded()
    {
    }

    private async Task RunAsync(IChannelApplication application, ChannelScope scope, IChannelSession session)
    {
        await Task.Yield(); // The caller gets on with the test while the application starts.
        try
        {
            await application.RunAsync(scope, session).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (session.Aborted.IsCancellationRequested)
        {
            // The client left (or the worker was stopped) and the application gave up: a normal
            // end, as the servers (ChannelsMiddleware, the worker service) treat it.
        }
        finally
        {
            OnEnded();
        }
    }
}

/// <summary>An <see cref="ApplicationRun"/> whose application sends the client <typeparamref name="TOutput"/>s,
/// which the test receives in order, with a timeout.</summary>
/// <typeparam name="TOutput">What the session records of the application's sends.</typeparam>
internal sealed class ApplicationRun<TOutput>(string notStartedMessage) : ApplicationRun(notStartedMessage)
    where TOutput : class
{
    private readonly Channel<TOutput> _output = Channel.CreateUnbounded<TOutput>();

    /// <summary>Where the in-process session records what the application sends.</summary>
    public ChannelWriter<TOutput> Output => _output.Writer;

    /// <summary>
    /// The next thing the application sent. What it sent before it ended is received first; then
    /// its exception surfaces, or, if it ended normally, an <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <exception cref="ApplicationTimeoutException">Nothing came within <paramref name="timeout"/>.</exception>
    public async Task<TOutput> ReceiveAsync(TimeSpan? timeout)
    {
        var running = Running;
        var wait = timeout ?? DefaultTimeout;
        using var cts = new CancellationTokenSource(wait);
        try
        {
            while (await _output.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
            {
                if (_output.Reader.TryRead(out var output))
                {
                    return output;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            ThrowIfFailed(); // asgiref: "see if we have another error to raise inside".
            throw new ApplicationTimeoutException($"The application sent nothing within {wait.TotalSeconds} s.");
        }

        await running.ConfigureAwait(false); // Surfaces the application's exception, if it failed.
        throw new InvalidOperationException("The application has ended and sent nothing more.");
    }

    /// <summary>
    /// True when the application sends nothing within <paramref name="timeout"/> (what it already
    /// sent counts, and stays to be received). Surfaces the application's exception if it failed.
    /// </summary>
    public async Task<bool> ReceiveNothingAsync(TimeSpan? timeout)
    {
        EnsureStarted();
        if (_output.Reader.TryPeek(out _))
        {
            return false;
        }

        using var cts = new CancellationTokenSource(timeout ?? DefaultNothingTimeout);
        try
        {
            if (await _output.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
            {
                return false;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }

        ThrowIfFailed();
        return true;
    }

    /// <summary>Nothing more can be sent once the application has ended.</summary>
    protected override void OnEnded() => _output.Writer.TryComplete();
}
