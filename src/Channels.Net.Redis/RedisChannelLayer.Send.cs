using Channels.Net.Layers;
using Channels.Net.Redis.Receiving;
using Channels.Net.Redis.Sharding;
using Channels.Net.Redis.Wire;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;
using Channels.Net.Redis.Connections;
namespace Channels.Net.Redis;

/// <content>Sending to one channel: through Redis (channels_redis's <c>send</c> script) or, for this process's own channels, in-process.</content>
public sealed partial class RedisChannelLayer
{
    /// <inheritdoc />
    public async ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default)
    {
        ChannelNames.RequireValidChannelName(channel);
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var bang = channel.IndexOf('!', StringComparison.Ordinal);
        if (bang < 0)
        {
            await SendThroughRedisAsync(channel, _prefix + channel, _shards[NextIndex(ref _sendIndex)], message, asgiChannel: null, local: null).ConfigureAwait(false);
            return;
        }

        // Hash the non-local name, where the receiver reads (channels_redis #221 hashes the full name).
        var nonLocal = channel.AsSpan(0, bang + 1);
        if (_localKeys.IsOwn(nonLocal))
        {
            var local = _localKeys.Get(nonLocal);
            if (local.DeliversInProcess)
            {
                MessageCodec.Validate(message, withAsgiChannel: true); // refused here if Redis would have refused it
                DeliverInProcess(channel, message);
                return;
            }

            await SendThroughRedisAsync(channel, local.Key, _shards[local.ShardIndex], message, channel, local).ConfigureAwait(false);
            return;
        }

        var nonLocalName = nonLocal.ToString();
        await SendThroughRedisAsync(channel, _prefix + nonLocalName, _shards[ConsistentHash.Index(nonLocalName, _shards.Length)], message, channel, local: null).ConfigureAwait(false);
    }

    /// <summary>A send through Redis: channels_redis's commands as one script (one round trip).</summary>
    private async ValueTask SendThroughRedisAsync(string channel, RedisKey key, RedisShard shard, ChannelMessage message, string? asgiChannel, LocalKey? local)
    {
        var member = _serializer.SerializeRented(message, asgiChannel);
        var capacity = _capacities.GetCapacity(channel);
        var now = Now();
        RedisValue[] arguments = [member.Memory, now, Cutoff(now, _expirySeconds), capacity, _expirySeconds];
        local?.WireSendStarted();
        RedisResult added;
        try
        {
            added = await RunAsync(shard, db => db.ScriptEvaluateAsync(LuaScripts.Send, [key], arguments)).ConfigureAwait(false);
        }
        finally
        {
            local?.WireSendEnded();
        }

        member.Return(); // Only once Redis has answered: a failed command may still hold the bytes.
        if ((long)added == 0)
        {
            throw new ChannelFullException(channel, capacity);
        }
    }

    /// <summary>
    /// Hands <paramref name="message"/> to the buffer of this layer's channel <paramref name="target"/>, as the
    /// pump does with what it pops. The buffer holds the channel's capacity, and up to
    /// <see cref="RedisChannelLayerOptions.ReceiveBufferLimit"/> while its receiver is draining; a message beyond
    /// that is dropped and logged (its receiver stopped reading, or cannot keep up at all).
    /// </summary>
    private void DeliverInProcess(string target, ChannelMessage message)
    {
        if (!_local.TryDeliver(target, message, Options.ReceiveBufferLimit))
        {
            RedisLog.LocalBufferFull(_logger, target, _capacities.GetCapacity(target));
        }
    }
}
