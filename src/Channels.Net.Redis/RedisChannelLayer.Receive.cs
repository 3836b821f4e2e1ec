using System.Text;
using Channels.Net.Internal;
using Channels.Net.Layers;
using Channels.Net.Redis.Cluster;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Receiving;
using Channels.Net.Redis.Wire;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;
using Channels.Net.Redis.Connections;
namespace Channels.Net.Redis;

/// <content>Receiving: this process's channels through the receive pump and their local buffers; plain channels with a blocking pop per receive (put back when cancelled); what the pump pops, decoded and handed over.</content>
public sealed partial class RedisChannelLayer
{
    /// <inheritdoc />
    public ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ChannelMessage>(cancellationToken);
        }

        if (!ChannelNames.IsProcessLocal(channel))
        {
            return ReceivePlainAsync(channel, cancellationToken);
        }

        StartReceivingLocal(channel);
        return _local.ReceiveAsync(channel, cancellationToken);
    }

    /// <inheritdoc />
    bool IListeningChannelLayer.TryReceiveOrListen(string channel, ILayerMessageReceiver receiver, int room, CancellationToken cancellationToken, out ChannelMessage? message)
    {
        message = null;
        if (!ChannelNames.IsProcessLocal(channel))
        {
            return false; // A plain channel is popped from Redis by the receive itself.
        }

        ThrowIfDisposed();
        if (!_local.HasChannel(channel))
        {
            // Once per channel, not per message (the inbox listens again after every message): a channel that has a
            // buffer was checked and its key is read by a pump (a buffer is made by a receive, which starts that, or
            // by a delivery, which comes from the pump or goes in-process only while the pump reads the key).
            ChannelNames.RequireValidChannelName(channel);
            StartReceivingLocal(channel);
        }

        return ((IListeningChannelLayer)_local).TryReceiveOrListen(channel, receiver, room, cancellationToken, out message);
    }

    /// <inheritdoc />
    void IListeningChannelLayer.StopListening(string channel) => ((IListeningChannelLayer)_local).StopListening(channel);

    /// <summary>Checks that <paramref name="channel"/> (process-local) is this layer's own, and makes sure a pump reads its key.</summary>
    private void StartReceivingLocal(string channel)
    {
        var nonLocal = channel.AsSpan(0, channel.IndexOf('!', StringComparison.Ordinal) + 1);
        if (!_localKeys.IsOwn(nonLocal))
        {
            throw new InvalidChannelNameException(
                $"Channel name {ChannelNames.Show(channel)} was not made by this layer: a process receives only on the process-local channels its own layer created (their names hold '{ClientPrefix}!').",
                channel,
                nameof(channel));
        }

        var local = _localKeys.Get(nonLocal);
        if (local.Pump is null)
        {
            // One pump per host; on a cluster, one per hash slot, as one blocking pop may only name keys of one slot.
            var pump = _cluster ? ClusterSlot.Of(local.Key) : local.ShardIndex;
            _pumps.GetOrAdd(pump, static (_, state) => new ReceivePump(state.Layer._shards[state.Shard], state.Layer.Deliver, state.Layer.Options.BlockingPopTimeout, state.Layer._logger), (Layer: this, Shard: local.ShardIndex))
                .EnsureKey(local);
        }
    }

    private async ValueTask<ChannelMessage> ReceivePlainAsync(string channel, CancellationToken cancellationToken)
    {
        RedisKey key = _prefix + channel;
        if (_shards.Length == 1)
        {
            return (await ReceivePlainOnShardAsync(_shards[0], key, untilTimeout: false, cancellationToken).ConfigureAwait(false))!;
        }

        // Plain channels are written round-robin over the hosts: wait on each host in turn for one
        // BlockingPopTimeout (as channels_redis does), so a message on any host is found.
        while (true)
        {
            var shard = _shards[NextIndex(ref _receiveIndex)];
            if (await ReceivePlainOnShardAsync(shard, key, untilTimeout: true, cancellationToken).ConfigureAwait(false) is { } message)
            {
                return message;
            }
        }
    }

    /// <summary>
    /// Pops <paramref name="key"/> on one host; with <paramref name="untilTimeout"/>, returns null when a
    /// blocking pop times out empty, otherwise waits there until a message comes.
    /// </summary>
    private async ValueTask<ChannelMessage?> ReceivePlainOnShardAsync(RedisShard shard, RedisKey key, bool untilTimeout, CancellationToken cancellationToken)
    {
        var connection = await RunAsync(shard, async _ => await shard.RentBlockingAsync().ConfigureAwait(false)).ConfigureAwait(false);
        var returned = false;
        var refused = 0;
        try
        {
            while (true)
            {
                ThrowIfDisposed();
                if (!shard.IsCurrent(connection))
                {
                    // A Sentinel master moved: go on against the new one.
                    var stale = connection;
                    connection = await RunAsync(shard, async _ => await shard.RentBlockingAsync().ConfigureAwait(false)).ConfigureAwait(false);
                    shard.ReturnBlocking(stale);
                }

                var pop = shard.Database(connection).ExecuteAsync("BZPOPMIN", key, Math.Max(1, (int)Math.Ceiling(Options.BlockingPopTimeout.TotalSeconds)));
                RedisResult result;
                try
                {
                    result = await pop.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The pop goes on: whatever it takes is put back, and only then is the connection reused.
                    returned = true;
                    _ = RestoreAfterCancelAsync(shard, connection, key, pop);
                    throw;
                }
                catch (Exception) when (_disposed)
                {
                    // DisposeAsync closed the blocking connection under the pop, which took nothing.
                    returned = true;
                    throw new ObjectDisposedException(GetType().FullName);
                }
                catch (RedisServerException ex) when (_cluster && ClusterErrors.IsInFlux(ex) && ++refused < ClusterAttempts)
                {
                    // The pop took nothing (its node lost the slot or turned replica): pop again where the slot is now.
                    await Task.Delay(TimeSpan.FromMilliseconds(10 << refused), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch (Exception ex) when (RedisShard.IsUnavailable(ex) || (_cluster && ex is RedisServerException server && (ClusterErrors.IsDown(server) || ClusterErrors.IsInFlux(server))))
                {
                    if (!shard.IsCurrent(connection))
                    {
                        continue; // The old master dropped the pop as the master moved.
                    }

                    throw Unavailable(shard, ex);
                }

                refused = 0;

                if (result.IsNull)
                {
                    if (untilTimeout)
                    {
                        return null;
                    }

                    continue;
                }

                var popped = (RedisResult[])result!;
                if (IsExpired((double)popped[2]))
                {
                    continue;
                }

                var decoded = TryDecode(key, (byte[])popped[1]!);
                if (decoded is { } message)
                {
                    return message.Message;
                }
            }
        }
        finally
        {
            if (!returned)
            {
                shard.ReturnBlocking(connection);
            }
        }
    }

    private async Task RestoreAfterCancelAsync(RedisShard shard, ConnectionMultiplexer connection, RedisKey key, Task<RedisResult> pop)
    {
        try
        {
            var result = await pop.ConfigureAwait(false);
            if (!result.IsNull)
            {
                var popped = (RedisResult[])result!;
                var commands = await shard.CommandsAsync().ConfigureAwait(false);
                await commands.SortedSetAddAsync(key, (byte[])popped[1]!, (double)popped[2]).ConfigureAwait(false);
            }

            shard.ReturnBlocking(connection);
        }
        catch (Exception) when (_disposed && !pop.IsCompletedSuccessfully)
        {
            // The layer was disposed under the pop: its connection was closed and nothing was taken.
        }
        catch (Exception ex)
        {
            WireLog.UndecodableMessage(_logger, key.ToString(), $"a message popped for a cancelled receive could not be put back: {ex.Message}");
        }
    }

    /// <summary>The pump's delivery: decode, then hand to each local channel the message names.</summary>
    private void Deliver(RedisKey key, ReadOnlyMemory<byte> member, double score)
    {
        if (IsExpired(score) || TryDecode(key, member.Span, _localNames) is not { } decoded)
        {
            return;
        }

        var targets = decoded.TargetChannels;
        if (targets.Count == 0)
        {
            WireLog.UndecodableMessage(_logger, key.ToString(), "it names no process-local channel (__asgi_channel__ is missing)");
            return;
        }

        using var wakeUps = WorkItemBatch.Begin(); // The targets' consumers are woken a few work items at a time.
        foreach (var target in targets)
        {
            if (!IsOwnLocalChannel(target))
            {
                RedisLog.ForeignChannel(_logger, target);
                continue;
            }

            try
            {
                // The local layer checks the name when it meets a channel for the first time.
                DeliverInProcess(target, decoded.Message);
            }
            catch (InvalidChannelNameException)
            {
                RedisLog.ForeignChannel(_logger, target);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// True for a message older than the expiry, by the cut-off channels_redis uses when it sends
    /// (<c>score &lt;= int(now) - expiry</c>). channels_redis delivers such a message if nothing was sent
    /// after it; this layer drops it on read, as the layer contract says.
    /// </summary>
    private bool IsExpired(double score) => score <= Cutoff(Now(), _expirySeconds);

    /// <summary>True when <paramref name="channel"/>'s non-local part ends with this layer's <c>{client}!</c> (no allocation).</summary>
    private bool IsOwnLocalChannel(string channel)
    {
        var bang = channel.IndexOf('!', StringComparison.Ordinal);
        return bang >= 0 && _localKeys.IsOwn(channel.AsSpan(0, bang + 1));
    }

    /// <summary>
    /// The name of one of this process's channels (one the local layer holds), found from its UTF-8 without making a
    /// string: a group message from Redis names every member under the key, ~100 in a room split over two servers.
    /// </summary>
    private string? LookUpLocalName(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > ChannelNames.MaxLength)
        {
            return null;
        }

        Span<char> chars = stackalloc char[utf8.Length];
        return Ascii.ToUtf16(utf8, chars, out var written) == System.Buffers.OperationStatus.Done
            && _local.TryGetChannelName(chars[..written], out var name) ? name : null;
    }

    private DecodedMessage? TryDecode(RedisKey key, ReadOnlySpan<byte> member, Utf8NameLookup? channelNames = null)
    {
        try
        {
            return _serializer.Deserialize(member, channelNames);
        }
        catch (Exception ex) when (ex is WireFormatException or InvalidTokenException or InvalidChannelMessageException)
        {
            WireLog.UndecodableMessage(_logger, key.ToString(), ex.Message);
            return null;
        }
    }
}
