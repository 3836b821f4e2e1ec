using Channels.Net.Internal;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Channels.Net.Redis.Sharding;
using Channels.Net.Redis.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Redis.PubSub;

/// <summary>
/// The Redis pub/sub channel layer, compatible with channels_redis's <c>RedisPubSubChannelLayer</c>
/// (4.0): a send is a <c>PUBLISH</c> of the bare msgpack message on the channel's name, a group is the
/// Redis channel <c>{prefix}__group__{group}</c>, so Django and .NET processes on one Redis share
/// channels and groups.
/// </summary>
/// <remarks>
/// <para>Nothing is stored in Redis: a message reaches the processes subscribed to its channel at the
/// moment it is published, and is lost if there are none. There is no capacity (a send never throws
/// <see cref="ChannelFullException"/>), no expiry and no group expiry.</para>
/// <para>A process subscribes to a channel when it makes it (<see cref="NewChannelAsync"/>), when it
/// first receives on it, or when <see cref="SubscribeAsync"/> is called; messages for it wait in a
/// bounded buffer (<see cref="RedisPubSubChannelLayerOptions.BufferCapacity"/>) until received. Group
/// memberships live in the process: <see cref="GroupAddAsync"/> accepts only channels this layer is
/// subscribed to, and subscribes the process to the group's Redis channel while it has members here.</para>
/// <para>Channels and groups are spread over the hosts by the CRC-32 of the Redis channel name, as
/// channels_redis does. Each host has one connection for subscriptions; messages on one Redis channel
/// are handed on in the order Redis delivered them.</para>
/// <para>While Redis is unreachable, sends and new subscriptions fail at once with
/// <see cref="ChannelLayerUnavailableException"/>; waiting receives keep waiting, and StackExchange.Redis
/// resubscribes every channel when Redis is back. What is published meanwhile is lost.</para>
/// </remarks>
public sealed class RedisPubSubChannelLayer : IChannelLayer, IListeningChannelLayer
{
    private readonly PubSubShard[] _shards;
    private readonly string _prefix;
    private readonly string _groupPrefix;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<string, bool> _isWanted;
    private readonly Lock _state = new();
    private readonly Dictionary<string, LocalChannel> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PubSubGroup> _groups = new(StringComparer.Ordinal);
    private readonly ObjectDisposedException _releasedError = new(nameof(RedisPubSubChannelLayer), "The channel was released.");
    private long _dropped;
    private volatile bool _disposed;

    /// <summary>Creates the layer; connections are made on first use.</summary>
    /// <exception cref="ArgumentException">An option is wrong (the message names it).</exception>
    public RedisPubSubChannelLayer(RedisPubSubChannelLayerOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = loggerFactory?.CreateLogger<RedisPubSubChannelLayer>() ?? (ILogger)NullLogger.Instance;
        _time = options.TimeProvider;
        _prefix = options.Prefix;
        _groupPrefix = options.Prefix + "__group__";
        _isWanted = IsWanted;
        var hosts = options.Hosts.Count == 0 ? [RedisHost.Default] : options.Hosts.ToArray();
        _shards = [.. hosts.Select(host => new PubSubShard(host, options.ConnectTimeout, Deliver, _logger))];
    }

    /// <summary>The options this layer was made with.</summary>
    public RedisPubSubChannelLayerOptions Options { get; }

    /// <inheritdoc />
    public ChannelLayerExtensions Extensions => ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush;

    /// <summary>How many messages were dropped because a channel's buffer was full (for tests and diagnostics).</summary>
    internal long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>How many messages wait in <paramref name="channel"/>'s buffer; 0 when this process is not subscribed to it (for tests and diagnostics).</summary>
    internal int BufferedMessages(string channel)
    {
        lock (_state)
        {
            return _channels.TryGetValue(channel, out var local) ? local.Count : 0;
        }
    }

    /// <summary>
    /// Publishes <paramref name="message"/> on <paramref name="channel"/>. It reaches every process
    /// subscribed to the channel now; with none, it is lost. Never throws <see cref="ChannelFullException"/>.
    /// </summary>
    /// <exception cref="InvalidChannelNameException">The channel name breaks a naming rule.</exception>
    /// <exception cref="ChannelLayerUnavailableException">The channel's Redis host cannot be reached.</exception>
    public async ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        await ShardFor(channel).PublishAsync(channel, MessageCodec.Encode(message)).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the next message on <paramref name="channel"/>, subscribing to it first if this process
    /// is not yet subscribed (then only messages published from that moment on arrive). Receivers are
    /// served first come, first served; a cancelled receive takes no message.
    /// </summary>
    /// <remarks>A cancelled receive with no other receive waiting starts the channel's
    /// <see cref="RedisPubSubChannelLayerOptions.ReleaseDelay"/>: unless a receive follows within it,
    /// the channel is unsubscribed and leaves its groups.</remarks>
    /// <exception cref="InvalidChannelNameException">The channel name breaks a naming rule.</exception>
    /// <exception cref="ChannelLayerUnavailableException">The channel was not subscribed yet and its host cannot be reached.</exception>
    public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ChannelMessage>(cancellationToken);
        }

        var shard = ShardFor(channel);
        LocalChannel? subscribed = null;
        lock (_state)
        {
            if (_channels.TryGetValue(channel, out var local) && shard.IsSubscribed(channel))
            {
                BeginReceiveLocked(local);
                subscribed = local;
            }
        }

        return subscribed is not null
            ? ReceiveFromAsync(subscribed, cancellationToken)
            : ReceiveAfterSubscribingAsync(channel, cancellationToken);
    }

    /// <summary>
    /// A consumer's inbox listens on a channel this layer is subscribed to by a call (<see cref="IListeningChannelLayer"/>),
    /// as on the in-memory and Redis layers: the subscription's thread hands each message straight to the inbox, with no
    /// thread-pool hop and no task per receive. A listen counts as a receive for the channel's release (a listen ended by
    /// cancellation starts the release delay, as a cancelled receive does). A channel not subscribed yet, or one with a
    /// listener already, is received with <see cref="ReceiveAsync"/> instead (false).
    /// </summary>
    bool IListeningChannelLayer.TryReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken, out ChannelMessage? message)
    {
        message = null;
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        var shard = ShardFor(channel);
        LocalChannel? local;
        lock (_state)
        {
            if (!_channels.TryGetValue(channel, out local) || local.Released || !shard.IsSubscribed(channel) || !local.Listener.TryArm(this, receiver, cancellationToken))
            {
                return false;
            }

            BeginReceiveLocked(local);
        }

        try
        {
            message = local.ReceiveOrListen(room, cancellationToken);
        }
        catch
        {
            local.Listener.Disarm();
            EndReceive(local, cancelled: false);
            throw;
        }

        if (message is not null)
        {
            local.Listener.Disarm();
            EndReceive(local, cancelled: false);
        }

        return true;
    }

    /// <inheritdoc />
    void IListeningChannelLayer.StopListening(string channel)
    {
        LocalChannel? local;
        lock (_state)
        {
            _channels.TryGetValue(channel, out local);
        }

        local?.StopListening();
    }

    /// <summary>A listen ended: with a message, or with the receive's error (a cancellation counts as a cancelled receive).</summary>
    internal void EndListen(LocalChannel local, bool cancelled) => EndReceive(local, cancelled);

    /// <summary>
    /// Returns a new channel name, <c>{Prefix}{prefix}.{32 hex digits}</c> (<c>asgispecific.3f2a…</c>, as
    /// channels_redis's <c>new_channel</c> names them), that this process is already subscribed to.
    /// </summary>
    /// <remarks>Unlike the other layers' names, these hold no <c>!</c>: in pub/sub every channel is simply a
    /// Redis channel, received by whichever process subscribes to it.</remarks>
    /// <exception cref="InvalidChannelNameException"><paramref name="prefix"/> contains <c>!</c> or would make an invalid name.</exception>
    /// <exception cref="ChannelLayerUnavailableException">The channel's host cannot be reached.</exception>
    public async ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        if (ChannelNames.IsProcessLocal(prefix))
        {
            throw new InvalidChannelNameException($"The new-channel prefix {ChannelNames.Show(prefix)} must not contain '!'.", prefix, nameof(prefix));
        }

        var name = $"{_prefix}{prefix}.{Guid.NewGuid():N}";
        ChannelNames.RequireValidChannelName(name, paramName: nameof(prefix));
        await EnsureSubscribedAsync(name).ConfigureAwait(false);
        return name;
    }

    /// <summary>
    /// Subscribes this process to <paramref name="channel"/> now, so that messages published from now on
    /// wait in its buffer for <see cref="ReceiveAsync"/> (which subscribes by itself, but only from the
    /// moment it is called). When it returns, Redis has confirmed the subscription. Does nothing for a
    /// channel already subscribed.
    /// </summary>
    /// <exception cref="InvalidChannelNameException">The channel name breaks a naming rule.</exception>
    /// <exception cref="ChannelLayerUnavailableException">The channel's host cannot be reached.</exception>
    public async ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureSubscribedAsync(channel).ConfigureAwait(false);
    }

    /// <summary>
    /// Adds <paramref name="channel"/> to <paramref name="group"/> in this process and subscribes the
    /// process to the group's Redis channel. The channel must be one this layer is subscribed to (made by
    /// <see cref="NewChannelAsync"/>, received on, or passed to <see cref="SubscribeAsync"/>), as in channels_redis.
    /// </summary>
    /// <exception cref="InvalidOperationException">This process is not subscribed to <paramref name="channel"/>.</exception>
    /// <exception cref="ChannelLayerUnavailableException">The group's host cannot be reached (the channel is then not added).</exception>
    public async ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var groupChannel = GroupChannel(group);
        bool added;
        lock (_state)
        {
            ThrowIfDisposed();
            if (!_channels.TryGetValue(channel, out var local))
            {
                throw new InvalidOperationException(
                    $"GroupAddAsync: this process is not subscribed to the channel {ChannelNames.Show(channel)}, so it cannot add it to group {ChannelNames.Show(group)}. " +
                    "The pub/sub layer keeps group memberships in the process that receives them: only a channel this layer made (NewChannelAsync), receives on, or subscribed to (SubscribeAsync) can join a group here. " +
                    "A consumer adds its own channel: GroupAddAsync(group, ChannelName).");
            }

            if (!_groups.TryGetValue(groupChannel, out var members))
            {
                members = new PubSubGroup(groupChannel);
                _groups.Add(groupChannel, members);
            }

            added = members.Add(local);
            if (added)
            {
                local.Groups.Add(groupChannel);
            }
        }

        try
        {
            await ShardFor(groupChannel).SyncAsync(groupChannel, _isWanted).ConfigureAwait(false);
        }
        catch (ChannelLayerUnavailableException) when (added)
        {
            lock (_state)
            {
                RemoveMemberLocked(groupChannel, channel);
            }

            throw;
        }
    }

    /// <summary>Removes <paramref name="channel"/> from <paramref name="group"/> in this process; when the
    /// group has no member left here, unsubscribes from it. Removing a non-member does nothing.</summary>
    /// <exception cref="InvalidChannelNameException">A name breaks a naming rule.</exception>
    public async ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var groupChannel = GroupChannel(group);
        bool removed;
        lock (_state)
        {
            removed = RemoveMemberLocked(groupChannel, channel);
        }

        if (removed)
        {
            await ShardFor(groupChannel).SyncAsync(groupChannel, _isWanted).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes <paramref name="message"/> on the group's Redis channel: every process with members
    /// in the group hands it to each of its members. Never throws <see cref="ChannelFullException"/>.</summary>
    /// <exception cref="InvalidChannelNameException">The group name breaks a naming rule.</exception>
    /// <exception cref="ChannelLayerUnavailableException">The group's host cannot be reached.</exception>
    public async ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidGroupName(group);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        var groupChannel = GroupChannel(group);
        await ShardFor(groupChannel).PublishAsync(groupChannel, MessageCodec.Encode(message)).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops every buffered message and every group membership of this process (unsubscribing from the
    /// groups). Channel subscriptions stay, so waiting receives keep waiting and get the next message
    /// (channels_redis's flush also drops the channel subscriptions and closes the connections). Redis
    /// itself holds nothing to flush.
    /// </summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        // What was published before the flush may still be on its way from Redis: take it in first, so
        // the flush drops it too.
        foreach (var shard in _shards)
        {
            await shard.QuiesceAsync(cancellationToken).ConfigureAwait(false);
        }

        string[] groupChannels;
        lock (_state)
        {
            ThrowIfDisposed();
            groupChannels = [.. _groups.Keys];
            _groups.Clear();
            foreach (var local in _channels.Values)
            {
                local.Groups.Clear();
                local.Clear();
            }
        }

        foreach (var groupChannel in groupChannels)
        {
            await ShardFor(groupChannel).SyncAsync(groupChannel, _isWanted).ConfigureAwait(false);
        }
    }

    /// <summary>Fails waiting receives with <see cref="ObjectDisposedException"/>, ends every subscription and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        LocalChannel[] locals;
        lock (_state)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            locals = [.. _channels.Values];
            _channels.Clear();
            _groups.Clear();
        }

        var error = new ObjectDisposedException(nameof(RedisPubSubChannelLayer), "The channel layer was closed while a receive was waiting.");
        foreach (var local in locals)
        {
            local.ReleaseTimer?.Dispose();
            local.Close(error);
        }

        foreach (var shard in _shards)
        {
            await shard.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Makes <paramref name="channel"/> a subscribed channel of this process (if it is not one yet)
    /// and waits until Redis confirmed the subscription.</summary>
    private async Task<LocalChannel> EnsureSubscribedAsync(string channel)
    {
        LocalChannel local;
        bool created;
        lock (_state)
        {
            ThrowIfDisposed();
            created = !_channels.TryGetValue(channel, out local!);
            if (created)
            {
                local = new LocalChannel(channel, Options.BufferCapacity, Options.ReceiveBufferLimit, _logger);
                _channels.Add(channel, local);
            }
        }

        try
        {
            await ShardFor(channel).SyncAsync(channel, _isWanted).ConfigureAwait(false);
        }
        catch (ChannelLayerUnavailableException) when (created)
        {
            lock (_state)
            {
                // Forget it unless someone started to use it meanwhile (their own subscribe attempt decides for them).
                if (local.ActiveReceives == 0 && local.Groups.Count == 0 && _channels.TryGetValue(channel, out var current) && current == local)
                {
                    _channels.Remove(channel);
                    local.Released = true;
                    local.Close(_releasedError);
                }
            }

            throw;
        }

        return local;
    }

    private async ValueTask<ChannelMessage> ReceiveAfterSubscribingAsync(string channel, CancellationToken cancellationToken)
    {
        while (true)
        {
            var local = await EnsureSubscribedAsync(channel).ConfigureAwait(false);
            bool started;
            lock (_state)
            {
                ThrowIfDisposed();
                started = !local.Released;
                if (started)
                {
                    BeginReceiveLocked(local);
                }
            }

            if (started)
            {
                return await ReceiveFromAsync(local, cancellationToken).ConfigureAwait(false);
            }

            // Released between the subscription and now (its release was already due): subscribe again.
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Waits on <paramref name="local"/>, whose receive count <see cref="BeginReceiveLocked"/> raised.</summary>
    private async ValueTask<ChannelMessage> ReceiveFromAsync(LocalChannel local, CancellationToken cancellationToken)
    {
        var cancelled = false;
        try
        {
            return await local.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
            throw;
        }
        finally
        {
            EndReceive(local, cancelled);
        }
    }

    private void BeginReceiveLocked(LocalChannel local)
    {
        local.ActiveReceives++;
        local.ReleaseGeneration++;
        local.ReleaseTimer?.Dispose();
        local.ReleaseTimer = null;
    }

    private void EndReceive(LocalChannel local, bool cancelled)
    {
        lock (_state)
        {
            local.ActiveReceives--;
            if (!cancelled || local.ActiveReceives > 0 || local.Released || _disposed)
            {
                return;
            }

            // The last receive gave up: its consumer has probably ended. Release the channel unless a receive comes back soon.
            var generation = ++local.ReleaseGeneration;
            local.ReleaseTimer?.Dispose();
            local.ReleaseTimer = _time.CreateTimer(
                static state =>
                {
                    var (layer, channel, expected) = ((RedisPubSubChannelLayer, LocalChannel, long))state!;
                    _ = layer.ReleaseAsync(channel, expected);
                },
                (this, local, generation),
                Options.ReleaseDelay,
                Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Unsubscribes a channel whose last receive was cancelled <see cref="RedisPubSubChannelLayerOptions.ReleaseDelay"/> ago,
    /// drops what it buffered and takes it out of its groups.</summary>
    private async Task ReleaseAsync(LocalChannel local, long generation)
    {
        string[] groupChannels;
        int dropped;
        lock (_state)
        {
            if (_disposed || local.Released || local.ActiveReceives != 0 || local.ReleaseGeneration != generation)
            {
                return;
            }

            local.Released = true;
            local.ReleaseTimer?.Dispose();
            local.ReleaseTimer = null;
            _channels.Remove(local.Name);
            groupChannels = [.. local.Groups];
            foreach (var groupChannel in groupChannels)
            {
                RemoveMemberLocked(groupChannel, local.Name);
            }

            dropped = local.Close(_releasedError);
        }

        PubSubLog.Released(_logger, local.Name, Options.ReleaseDelay.TotalSeconds, dropped, groupChannels.Length);
        try
        {
            await ShardFor(local.Name).SyncAsync(local.Name, _isWanted).ConfigureAwait(false);
            foreach (var groupChannel in groupChannels)
            {
                await ShardFor(groupChannel).SyncAsync(groupChannel, _isWanted).ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
            // The layer closed meanwhile: its connections, and with them the subscriptions, are gone.
        }
        catch (Exception ex)
        {
            // Nobody awaits a release: say what went wrong instead of leaving an unobserved task.
            // (A channel wanted again meanwhile reports its own failure to whoever wanted it.)
            PubSubLog.UnsubscribeFailed(_logger, local.Name, ShardFor(local.Name).Host.ToString(), ex.Message);
        }
    }

    /// <summary>Takes <paramref name="channel"/> out of the group; drops the group when it has no member left. Caller holds the state lock.</summary>
    private bool RemoveMemberLocked(string groupChannel, string channel)
    {
        if (!_groups.TryGetValue(groupChannel, out var members) || !members.Remove(channel))
        {
            return false;
        }

        if (_channels.TryGetValue(channel, out var local))
        {
            local.Groups.Remove(groupChannel);
        }

        if (members.Count == 0)
        {
            _groups.Remove(groupChannel);
        }

        return true;
    }

    /// <summary>Whether this process should be subscribed to <paramref name="redisChannel"/> (asked by the shards).</summary>
    private bool IsWanted(string redisChannel)
    {
        lock (_state)
        {
            return !_disposed && (_channels.ContainsKey(redisChannel) || _groups.ContainsKey(redisChannel));
        }
    }

    /// <summary>A message published on <paramref name="redisChannel"/>: to the channel's buffer, or to each
    /// local member's when it is a group (channels_redis's <c>_receive_message</c>).</summary>
    private void Deliver(string redisChannel, RedisValue payload)
    {
        LocalChannel? channel;
        LocalChannel[]? members = null;
        lock (_state)
        {
            if (_disposed)
            {
                return;
            }

            if (!_channels.TryGetValue(redisChannel, out channel))
            {
                if (!_groups.TryGetValue(redisChannel, out var group))
                {
                    return; // unsubscribed meanwhile
                }

                members = group.Snapshot();
            }
        }

        ChannelMessage message;
        try
        {
            message = MessageCodec.Decode(((ReadOnlyMemory<byte>)payload).Span).Message;
        }
        catch (Exception ex) when (ex is WireFormatException or InvalidChannelMessageException)
        {
            PubSubLog.UndecodableMessage(_logger, redisChannel, ex.Message);
            return;
        }

        if (channel is not null)
        {
            DeliverTo(channel, message);
            return;
        }

        using var wakeUps = WorkItemBatch.Begin(); // The members' consumers are woken a few work items at a time.
        foreach (var member in members!)
        {
            DeliverTo(member, message);
        }
    }

    private void DeliverTo(LocalChannel channel, ChannelMessage message)
    {
        if (!channel.Deliver(message))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private PubSubShard ShardFor(string redisChannel) =>
        _shards.Length == 1 ? _shards[0] : _shards[ConsistentHash.Index(redisChannel, _shards.Length)];

    private string GroupChannel(string group) => _groupPrefix + group;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
