using Channels.Net.Layers;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis.PubSub;

/// <summary>
/// Options of <see cref="RedisPubSubChannelLayer"/>: channels_redis's <c>RedisPubSubChannelLayer</c>
/// options (<c>hosts</c>, <c>prefix</c>), plus the bounds of this process's own buffering.
/// </summary>
/// <remarks>
/// The pub/sub layer has no <c>capacity</c>, <c>expiry</c>, <c>group_expiry</c> or
/// <c>channel_capacity</c>: Redis keeps nothing, a message goes to whoever is subscribed at the
/// moment it is published. channels_redis 4.0's pub/sub layer does not encrypt either, so there is no
/// <c>symmetric_encryption_keys</c>.
/// </remarks>
public sealed class RedisPubSubChannelLayerOptions
{
    /// <summary>The longest <see cref="Prefix"/>: with <c>specific.</c> and 32 hex digits, a new channel name stays under 100 characters.</summary>
    public const int MaxPrefixLength = ChannelNames.MaxLength - 1 - 9 - 32;

    /// <summary>The Redis servers (channels_redis's <c>hosts</c>). A channel or group lives on the host its
    /// name hashes to (CRC-32, as channels_redis). Empty means <c>redis://localhost:6379</c>. The URL's
    /// database number does not matter: Redis pub/sub spans all databases.</summary>
    public IList<RedisHost> Hosts { get; } = new List<RedisHost>();

    /// <summary>The prefix (<c>prefix</c>, default <c>asgi</c>) of the names <see cref="RedisPubSubChannelLayer.NewChannelAsync"/>
    /// makes (<c>{prefix}specific.{hex}</c>) and of group channels (<c>{prefix}__group__{group}</c>).
    /// Processes that share groups must share it. Only ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c>
    /// (so that the channel names it makes are valid); may be empty.</summary>
    public string Prefix { get; set; } = "asgi";

    /// <summary>
    /// How many received messages one subscribed channel holds while nobody takes them (default 1000).
    /// When a channel's buffer is full and its receiver is not draining (see <see cref="ReceiveBufferLimit"/>), further
    /// messages for it are dropped (the newest are lost, the buffered ones kept) and a warning is logged once; when it
    /// has room again, how many were dropped is logged. channels_redis's buffer is unbounded.
    /// </summary>
    public int BufferCapacity { get; set; } = 1000;

    /// <summary>
    /// How many messages one subscribed channel's buffer may hold while its receiver is draining (default 100,000):
    /// past <see cref="BufferCapacity"/>, a message is still buffered while the channel's receiver took a message
    /// within the last 2 s, so a burst waits for a receiver that is reading instead of being dropped. A safety net
    /// against a receiver that reads but can never keep up (channels_redis's buffer has no bound at all); a value
    /// lower than <see cref="BufferCapacity"/> means no more than <see cref="BufferCapacity"/>.
    /// </summary>
    public int ReceiveBufferLimit { get; set; } = 100_000;

    /// <summary>
    /// How long a channel stays subscribed after a receive on it was cancelled with no other receive
    /// waiting (default 30 s). A receive within that time keeps it; otherwise the channel is unsubscribed,
    /// its buffered messages are dropped and it leaves its groups, so channels of consumers that ended do not
    /// pile up. channels_redis unsubscribes at once, losing what is sent between a cancelled receive and the next.
    /// </summary>
    public TimeSpan ReleaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for Redis to connect before a first operation fails.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of <see cref="ReleaseDelay"/> (tests may replace it).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is wrong.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Prefix, nameof(Prefix));
        foreach (var c in Prefix)
        {
            if (!ChannelNames.IsNameChar(c))
            {
                throw new ArgumentException(
                    $"Prefix '{Prefix}' holds '{c}'; the pub/sub layer's prefix starts channel names, so it may contain only ASCII letters, digits, '-', '_' and '.'.",
                    nameof(Prefix));
            }
        }

        if (Prefix.Length > MaxPrefixLength)
        {
            throw new ArgumentException(
                $"Prefix is {Prefix.Length} characters long; new channel names ({{prefix}}specific.{{32 hex digits}}) must stay shorter than {ChannelNames.MaxLength} characters, so at most {MaxPrefixLength} are allowed.",
                nameof(Prefix));
        }

        if (BufferCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferCapacity), BufferCapacity, "BufferCapacity must be at least 1.");
        }

        if (ReceiveBufferLimit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferLimit), ReceiveBufferLimit, "ReceiveBufferLimit must be at least 1.");
        }

        if (ReleaseDelay <= TimeSpan.Zero || ReleaseDelay > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ReleaseDelay), ReleaseDelay, "ReleaseDelay must be longer than zero and at most one day.");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "ConnectTimeout must be longer than zero.");
        }

        foreach (var host in Hosts)
        {
            _ = RedisAddress.ToConfiguration(host);
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
