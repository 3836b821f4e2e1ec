using System.Runtime.CompilerServices;
using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

/// <summary>
/// The published conformance suite of the channel-layer contract (<see cref="IChannelLayer"/>):
/// names, messages, send and receive, capacity, expiry, groups, flush, cancellation, concurrency
/// and disposal, each stated as an xunit test. A backend's test project inherits this class and
/// supplies <see cref="CreateLayerAsync"/>; every test then runs against that backend.
/// </summary>
/// <remarks>
/// <para><b>Writing the factory.</b> Every call of <see cref="CreateLayerAsync"/> must return a new,
/// empty layer that honours every setting of <see cref="ConformanceLayerOptions"/>. Layers made by
/// one test must not see another test's data: a backend on a shared server gives each layer its own
/// key prefix (the flush test empties the layer it is given). The suite disposes every layer it made,
/// at the latest when the test ends, and may dispose one twice.</para>
/// <para><b>Time.</b> Expiry tests move time with <see cref="AdvanceTimeAsync"/>, a real
/// <see cref="Task.Delay(TimeSpan)"/> unless a backend with an injectable clock overrides it, and
/// scale their expiries by <see cref="ExpiryGranularity"/>, so a backend whose clock counts whole
/// seconds (channels_redis truncates <c>time.time()</c> when it drops expired entries) passes with
/// expiries of one or two seconds. Waiting for a message that must not come takes
/// <see cref="QuietPeriod"/> of real time; anything that could hang is bounded by <see cref="OperationTimeout"/>,
/// so a broken backend fails instead of hanging.</para>
/// <para><b>Capabilities.</b> Where a backend legitimately differs from the in-memory reference
/// (Redis pub/sub has no capacity, no persistence and no expiry; channels_redis does not take a channel
/// out of its groups when a message expires), it overrides one of the <c>Supports…</c> properties. The
/// tests concerned then assert the documented different behaviour instead, so no test passes
/// without asserting something.</para>
/// </remarks>
public abstract partial class ChannelLayerConformanceTests : IAsyncLifetime
{
    private readonly List<IChannelLayer> _layers = [];
    private readonly Lock _layersLock = new();

    /// <summary>Makes a new, empty layer of the backend under test with <paramref name="options"/>.</summary>
    /// <param name="options">The settings the test needs; every one must be honoured.</param>
    protected abstract ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options);

    /// <summary>
    /// Lets <paramref name="by"/> pass on the clock the backend's layers use. The default waits in
    /// real time; a backend built on an injectable <see cref="TimeProvider"/> advances its fake clock
    /// (and fires the timers that became due) instead.
    /// </summary>
    /// <param name="by">How much time passes.</param>
    protected virtual Task AdvanceTimeAsync(TimeSpan by) => Task.Delay(by);

    /// <summary>
    /// The resolution of the backend's expiry clock: a message or membership is guaranteed to live
    /// at least its expiry and to be gone once its expiry plus this much has passed. Expiry tests
    /// use expiries of one to two of these. Defaults to one second (channels_redis compares whole
    /// seconds), which suits any backend.
    /// </summary>
    protected virtual TimeSpan ExpiryGranularity => TimeSpan.FromSeconds(1);

    /// <summary>How long (real time) the suite waits before it concludes that no message will
    /// arrive on a channel. Defaults to 200 ms.</summary>
    protected virtual TimeSpan QuietPeriod => TimeSpan.FromMilliseconds(200);

    /// <summary>The longest any single operation may take before the test fails. Defaults to 5 s.</summary>
    protected virtual TimeSpan OperationTimeout => TimeSpan.FromSeconds(5);

    /// <summary>How long (real time) the suite gives a receive it started to start waiting, where the
    /// order of waiting receivers matters. Defaults to 50 ms.</summary>
    protected virtual TimeSpan ReceiverSettleTime => TimeSpan.FromMilliseconds(50);

    /// <summary>How many times a test that relies on real-time windows (<see cref="WithRealTimeWindowsAsync"/>) is
    /// tried when an attempt fails after one of its windows was overrun. Defaults to 3.</summary>
    protected virtual int RealTimeAttempts => 3;

    /// <summary>The extensions the backend must report in <see cref="IChannelLayer.Extensions"/>;
    /// the methods of any other extension must throw <see cref="NotSupportedException"/>.
    /// Defaults to groups and flush.</summary>
    protected virtual ChannelLayerExtensions ExpectedExtensions => ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush;

    /// <summary>True when channels have a capacity and a send to a full channel throws
    /// <see cref="ChannelFullException"/>. When false (Redis pub/sub), the capacity tests assert
    /// that sends beyond the capacity succeed and are delivered.</summary>
    protected virtual bool SupportsCapacity => true;

    /// <summary>True when a message not received within its expiry is dropped. When false (Redis
    /// pub/sub), the expiry tests assert that the message still arrives after its expiry.</summary>
    protected virtual bool SupportsMessageExpiry => true;

    /// <summary>True when a group membership lapses after the group expiry unless renewed. When
    /// false, the group-expiry tests assert that memberships outlive it.</summary>
    protected virtual bool SupportsGroupExpiry => true;

    /// <summary>True when a channel whose message expired unread leaves every group it was in (Django's
    /// in-memory layer). When false (channels_redis, where memberships end only by group expiry or
    /// discard), the test asserts that the channel stays a member.</summary>
    protected virtual bool ExpiredMessageLeavesGroups => true;

    /// <summary>True when a message sent to a channel nobody is receiving on waits for a receiver.
    /// When false (Redis pub/sub: a message with no subscriber is lost), the persistence test
    /// asserts that such a message is lost, and every other test calls <see cref="BeginListeningAsync"/>
    /// on its channels before it sends.</summary>
    protected virtual bool KeepsMessagesWithoutReceiver => true;

    /// <summary>True when the names <see cref="IChannelLayer.NewChannelAsync"/> returns are process-local
    /// (<c>{prefix}.{process}!{unique}</c>, as Django's layers and channels_redis's core layer make them). When
    /// false (channels_redis's pub/sub layer, whose names are <c>{layer prefix}{prefix}.{hex}</c>), the naming
    /// test asserts that they hold no <c>!</c> instead.</summary>
    protected virtual bool NewChannelNamesAreProcessLocal => true;

    /// <summary>How a name from <see cref="IChannelLayer.NewChannelAsync"/> with <paramref name="prefix"/> must
    /// start. Defaults to <c>{prefix}.</c>; a backend that puts its own prefix first (Redis pub/sub:
    /// <c>{layer prefix}{prefix}.</c>) overrides it.</summary>
    /// <param name="layer">The layer that made the name, as made by <see cref="CreateLayerAsync"/>.</param>
    /// <param name="prefix">The prefix passed to <see cref="IChannelLayer.NewChannelAsync"/>.</param>
    protected virtual string ExpectedNewChannelStart(IChannelLayer layer, string prefix) => prefix + ".";

    /// <summary>
    /// Called for every channel a test will receive from, before anything is sent to it. A backend
    /// that keeps no messages for channels nobody listens on (<see cref="KeepsMessagesWithoutReceiver"/>
    /// false) overrides it to start listening, so that tests about order, capacity or concurrency
    /// test those rather than the lack of persistence. The default does nothing.
    /// </summary>
    /// <param name="layer">The layer the channel belongs to, as made by <see cref="CreateLayerAsync"/>.</param>
    /// <param name="channel">The channel the test will receive from.</param>
    protected virtual ValueTask BeginListeningAsync(IChannelLayer layer, string channel) => ValueTask.CompletedTask;

    /// <summary>
    /// Returns once <paramref name="count"/> receives started on <paramref name="channel"/> are waiting (registered
    /// with the backend, in the order they were started), where a test depends on it. The default waits
    /// <see cref="ReceiverSettleTime"/>; a backend that can see its waiting receivers (Redis: clients blocked in a
    /// pop) overrides it to wait until they are there, bounded by <see cref="OperationTimeout"/>.
    /// </summary>
    /// <param name="layer">The layer the receives were started on.</param>
    /// <param name="channel">The channel they wait on.</param>
    /// <param name="count">How many receives the test has started on it and not yet seen complete.</param>
    protected virtual Task WaitForWaitingReceiversAsync(IChannelLayer layer, string channel, int count) => Task.Delay(ReceiverSettleTime);

    /// <summary>
    /// Runs <paramref name="attempt"/>, a test that relies on real-time windows (expiries): when it fails after one
    /// of the windows it recorded in its <see cref="RealTimeWindows"/> was overrun, the failure proves nothing, and it
    /// runs again (with new layers and names), up to <see cref="RealTimeAttempts"/> times. A failure with every window
    /// kept fails the test at once; so does the last attempt, whatever its windows.
    /// </summary>
    /// <param name="attempt">One attempt of the test.</param>
    protected async Task WithRealTimeWindowsAsync(Func<RealTimeWindows, Task> attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var overrun = new List<string>();
        for (var i = 1; ; i++)
        {
            var windows = new RealTimeWindows();
            try
            {
                await attempt(windows).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (windows.Overruns.Count > 0)
            {
                overrun.Add($"attempt {i}: {string.Join("; ", windows.Overruns)} ({ex.GetType().Name}: {ex.Message})");
                if (i >= RealTimeAttempts)
                {
                    throw new TimeoutException(
                        $"Every one of {i} attempts overran a real-time window the test relies on, so the machine was too slow for it to conclude: {string.Join(" | ", overrun)}",
                        ex);
                }
            }
        }
    }

    /// <summary>Runs before each test; does nothing by default.</summary>
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Runs after each test: disposes every layer the test made (again, if the test already did).</summary>
    public virtual async Task DisposeAsync()
    {
        IChannelLayer[] layers;
        lock (_layersLock)
        {
            layers = [.. _layers];
            _layers.Clear();
        }

        List<Exception>? errors = null;
        foreach (var layer in layers)
        {
            try
            {
                await layer.DisposeAsync().AsTask().WaitAsync(OperationTimeout).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                (errors ??= []).Add(ex);
            }
        }

        if (errors is not null)
        {
            throw new AggregateException("Disposing a channel layer failed.", errors);
        }
    }

    /// <summary>Makes a layer through <see cref="CreateLayerAsync"/> and remembers it, so that it is
    /// disposed when the test ends.</summary>
    /// <param name="options">The settings; the defaults of <see cref="ConformanceLayerOptions"/> when null.</param>
    protected async Task<IChannelLayer> NewLayerAsync(ConformanceLayerOptions? options = null)
    {
        var layer = await CreateLayerAsync(options ?? new ConformanceLayerOptions()).AsTask().WaitAsync(OperationTimeout).ConfigureAwait(false);
        Assert.NotNull(layer);
        lock (_layersLock)
        {
            _layers.Add(layer);
        }

        return layer;
    }

    /// <summary>A channel or group name no other test uses: <c>conformance.{tag}.{32 hex digits}</c>.</summary>
    /// <param name="tag">A short, valid name fragment saying what the name is for.</param>
    protected static string UniqueName(string tag) => $"conformance.{tag}.{Guid.NewGuid():N}";

    /// <summary>Makes a channel of <paramref name="kind"/> to receive from (a unique plain name, or one from
    /// <see cref="IChannelLayer.NewChannelAsync"/>) and calls <see cref="BeginListeningAsync"/> on it.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="kind">Which kind of channel.</param>
    /// <param name="tag">A short, valid name fragment saying what the channel is for.</param>
    protected async Task<string> NewTestChannelAsync(IChannelLayer layer, ConformanceChannelKind kind, string tag)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var channel = kind == ConformanceChannelKind.Plain
            ? UniqueName(tag)
            : await Within(layer.NewChannelAsync(tag)).ConfigureAwait(false);
        Assert.True(ChannelNames.IsValidChannelName(channel), $"The test channel '{channel}' is not a valid channel name.");
        await Within(BeginListeningAsync(layer, channel)).ConfigureAwait(false);
        return channel;
    }

    /// <summary>Receives the next message on <paramref name="channel"/>, failing the test when none
    /// arrives within <see cref="OperationTimeout"/>.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="channel">The channel.</param>
    protected async Task<ChannelMessage> ReceiveWithinAsync(IChannelLayer layer, string channel)
    {
        ArgumentNullException.ThrowIfNull(layer);
        using var timeout = new CancellationTokenSource(OperationTimeout);
        try
        {
            // The token asks the layer to give up; WaitAsync bounds a layer that ignores it.
            return await layer.ReceiveAsync(channel, timeout.Token).AsTask()
                .WaitAsync(OperationTimeout + OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && timeout.IsCancellationRequested))
        {
            throw new TimeoutException($"No message arrived on '{channel}' within {OperationTimeout.TotalSeconds} s.", ex);
        }
    }

    /// <summary>Sends a message to <paramref name="channel"/> and receives it, so that its receive path (connections, a
    /// receive pump) is running before a timed test starts the clock: an expiry test times the layer's steady state,
    /// not how long a first receive takes to connect.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="channel">The channel, already listened on (<see cref="NewTestChannelAsync"/>).</param>
    protected async Task PrimeAsync(IChannelLayer layer, string channel)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var prime = Msg("test.prime");
        await Within(layer.SendAsync(channel, prime)).ConfigureAwait(false);
        MessageAssert.Equal(prime, await ReceiveWithinAsync(layer, channel).ConfigureAwait(false));
    }

    /// <summary>Receives <paramref name="count"/> messages from <paramref name="channel"/> in order.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="count">How many messages.</param>
    protected async Task<List<ChannelMessage>> ReceiveManyAsync(IChannelLayer layer, string channel, int count)
    {
        var messages = new List<ChannelMessage>(count);
        for (var i = 0; i < count; i++)
        {
            messages.Add(await ReceiveWithinAsync(layer, channel).ConfigureAwait(false));
        }

        return messages;
    }

    /// <summary>Fails when a message arrives on <paramref name="channel"/> within <see cref="QuietPeriod"/>.
    /// (A message that does arrive is consumed.)</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="channel">The channel.</param>
    protected async Task AssertNoMessageAsync(IChannelLayer layer, string channel)
    {
        ArgumentNullException.ThrowIfNull(layer);
        using var quiet = new CancellationTokenSource(QuietPeriod);
        ChannelMessage received;
        try
        {
            received = await layer.ReceiveAsync(channel, quiet.Token).AsTask()
                .WaitAsync(QuietPeriod + OperationTimeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested)
        {
            return;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"A receive on '{channel}' ignored its cancellation for {OperationTimeout.TotalSeconds} s.", ex);
        }

        Assert.Fail($"Expected no message on '{channel}', but received {received.ToJson()}.");
    }

    /// <summary>Awaits <paramref name="task"/>, failing with a <see cref="TimeoutException"/> naming the
    /// expression when it takes longer than <see cref="OperationTimeout"/>.</summary>
    /// <param name="task">The operation.</param>
    /// <param name="expression">Filled in by the compiler.</param>
    protected Task Within(ValueTask task, [CallerArgumentExpression(nameof(task))] string? expression = null) =>
        Within(task.AsTask(), expression);

    /// <summary>Awaits <paramref name="task"/>, failing with a <see cref="TimeoutException"/> naming the
    /// expression when it takes longer than <see cref="OperationTimeout"/>.</summary>
    /// <param name="task">The operation.</param>
    /// <param name="expression">Filled in by the compiler.</param>
    protected async Task Within(Task task, [CallerArgumentExpression(nameof(task))] string? expression = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            await task.WaitAsync(OperationTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (!task.IsCompleted)
        {
            throw new TimeoutException($"'{expression}' did not complete within {OperationTimeout.TotalSeconds} s.", ex);
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with a <see cref="TimeoutException"/> naming the
    /// expression when it takes longer than <see cref="OperationTimeout"/>.</summary>
    /// <param name="task">The operation.</param>
    /// <param name="expression">Filled in by the compiler.</param>
    protected Task<T> Within<T>(ValueTask<T> task, [CallerArgumentExpression(nameof(task))] string? expression = null) =>
        Within(task.AsTask(), expression);

    /// <summary>Awaits <paramref name="task"/>, failing with a <see cref="TimeoutException"/> naming the
    /// expression when it takes longer than <see cref="OperationTimeout"/>.</summary>
    /// <param name="task">The operation.</param>
    /// <param name="expression">Filled in by the compiler.</param>
    protected async Task<T> Within<T>(Task<T> task, [CallerArgumentExpression(nameof(task))] string? expression = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await task.WaitAsync(OperationTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (!task.IsCompleted)
        {
            throw new TimeoutException($"'{expression}' did not complete within {OperationTimeout.TotalSeconds} s.", ex);
        }
    }

    /// <summary>A message of <paramref name="type"/> with further fields.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="fields">Further keys and values.</param>
    protected static ChannelMessage Msg(string type, params (string Key, object? Value)[] fields) =>
        ChannelMessage.Create(type, fields.Select(static f => new KeyValuePair<string, object?>(f.Key, f.Value)));

    /// <summary>True when the backend is expected to implement groups; otherwise asserts that every
    /// group method throws <see cref="NotSupportedException"/> and returns false.</summary>
    /// <param name="layer">The layer.</param>
    protected async Task<bool> GroupsSupportedAsync(IChannelLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (ExpectedExtensions.HasFlag(ChannelLayerExtensions.Groups))
        {
            return true;
        }

        var group = UniqueName("nogroups");
        var channel = UniqueName("nogroups");
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Within(layer.GroupAddAsync(group, channel)));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Within(layer.GroupDiscardAsync(group, channel)));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Within(layer.GroupSendAsync(group, Msg("test.nogroups"))));
        return false;
    }

    /// <summary>True when the backend is expected to implement flush; otherwise asserts that
    /// <see cref="IChannelLayer.FlushAsync"/> throws <see cref="NotSupportedException"/> and returns false.</summary>
    /// <param name="layer">The layer.</param>
    protected async Task<bool> FlushSupportedAsync(IChannelLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (ExpectedExtensions.HasFlag(ChannelLayerExtensions.Flush))
        {
            return true;
        }

        await Assert.ThrowsAsync<NotSupportedException>(async () => await Within(layer.FlushAsync()));
        return false;
    }

    /// <summary>The integer at <paramref name="key"/>, failing the test when there is none.</summary>
    private static long Int(ChannelMessage message, string key)
    {
        var value = message.GetInt64(key);
        Assert.True(value.HasValue, $"The message {message.ToJson()} has no integer '{key}'.");
        return value.Value;
    }
}
