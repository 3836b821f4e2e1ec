using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Channels.Net.Redis.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: ChannelLayerBackend(typeof(Channels.Net.Redis.Configuration.RedisPubSubChannelLayerBackend))]

namespace Channels.Net.Redis.Configuration;

/// <summary>
/// Configuration binding of <see cref="RedisPubSubChannelLayer"/>: backend <c>RedisPubSub</c> (or
/// <c>channels_redis.pubsub.RedisPubSubChannelLayer</c>), options <c>Hosts</c> and <c>Prefix</c> as
/// channels_redis reads them, plus <c>BufferCapacity</c>, <c>ReceiveBufferLimit</c> and <c>ReleaseDelay</c>.
/// </summary>
/// <remarks>
/// <c>Hosts</c> takes the same entries as the core Redis layer's. The core layer's <c>Capacity</c>,
/// <c>ChannelCapacity</c>, <c>Expiry</c>, <c>GroupExpiry</c> and <c>SymmetricEncryptionKeys</c> are refused
/// with a message saying why (channels_redis 4.0 silently ignores them): pub/sub keeps nothing to bound or
/// expire, and channels_redis 4.0 sends pub/sub messages unencrypted.
/// </remarks>
public sealed class RedisPubSubChannelLayerBackend : ChannelLayerBackend
{
    private static readonly (string Key, string Why)[] s_coreOnly =
    [
        ("Capacity", "the pub/sub layer has no capacity: Redis keeps no messages, and each subscribed channel's buffer is bounded by BufferCapacity instead."),
        ("ChannelCapacity", "the pub/sub layer has no per-channel capacity: Redis keeps no messages (see BufferCapacity for this process's buffers)."),
        ("Expiry", "the pub/sub layer has no message expiry: a message reaches whoever is subscribed when it is published, or nobody."),
        ("GroupExpiry", "the pub/sub layer has no group expiry: group memberships live in the subscribing process until discarded."),
        ("SymmetricEncryptionKeys", "channels_redis 4.0's pub/sub layer publishes plain msgpack (it has no encryption), so this layer does not encrypt either; use the core layer (Backend=Redis) for encrypted messages."),
    ];

    /// <inheritdoc />
    public override IReadOnlyList<string> Names { get; } =
    [
        "RedisPubSub",
        nameof(RedisPubSubChannelLayer),
        typeof(RedisPubSubChannelLayer).FullName!,
        "channels_redis.pubsub.RedisPubSubChannelLayer",
    ];

    /// <inheritdoc />
    public override Func<IServiceProvider, IChannelLayer> Bind(ChannelLayerConfigReader config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var (key, why) in s_coreOnly)
        {
            if (config.GetSection(key) is { } section)
            {
                throw config.Error(section.Key, why);
            }
        }

        var defaults = new RedisPubSubChannelLayerOptions();
        var hosts = RedisChannelLayerBackend.ReadHosts(config);
        var prefix = config.GetString("Prefix", defaults.Prefix)!;
        var bufferCapacity = config.GetInt32("BufferCapacity", defaults.BufferCapacity, min: 1);
        var receiveBufferLimit = config.GetInt32("ReceiveBufferLimit", defaults.ReceiveBufferLimit, min: 1);
        var releaseDelay = config.GetDuration("ReleaseDelay", defaults.ReleaseDelay, TimeSpan.Zero);
        config.EnsureAllKeysRead();

        var options = new RedisPubSubChannelLayerOptions
        {
            Prefix = prefix,
            BufferCapacity = bufferCapacity,
            ReceiveBufferLimit = receiveBufferLimit,
            ReleaseDelay = releaseDelay,
        };
        foreach (var host in hosts)
        {
            options.Hosts.Add(host);
        }

        RedisChannelLayerBackend.Validate(config, options.Validate);

        return services =>
        {
            options.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
            return new RedisPubSubChannelLayer(options, services.GetService<ILoggerFactory>());
        };
    }
}
