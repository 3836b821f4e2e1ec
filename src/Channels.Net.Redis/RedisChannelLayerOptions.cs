using Channels.Net.Layers;
using Channels.Net.Redis.Cluster;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis;

/// <summary>
/// Options of <see cref="RedisChannelLayer"/>: every option of channels_redis's
/// <c>RedisChannelLayer</c>, with its defaults.
/// </summary>
public sealed class RedisChannelLayerOptions
{
    /// <summary>The Redis servers (channels_redis's <c>hosts</c>); messages are sharded over them.
    /// Empty means <c>redis://localhost:6379</c>.</summary>
    public IList<RedisHost> Hosts { get; } = new List<RedisHost>();

    /// <summary>
    /// True when <see cref="Hosts"/> are seed nodes of one Redis Cluster (any reachable node suffices;
    /// the others are discovered). Keys are then spread over the cluster by hash slot, as the cluster
    /// decides, instead of by channels_redis's client-side sharding over several hosts: the two cannot be
    /// combined. The keys are the same as on a single server (no hash tags are added).
    /// </summary>
    public bool Cluster { get; set; }

    /// <summary>The key prefix (<c>prefix</c>, default <c>asgi</c>). Processes that share channels must share it.</summary>
    public string Prefix { get; set; } = "asgi";

    /// <summary>How long a message waits to be received (<c>expiry</c>, 60 s). Whole seconds, as channels_redis counts them.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a group membership lasts unless renewed (<c>group_expiry</c>, 86400 s).</summary>
    public TimeSpan GroupExpiry { get; set; } = TimeSpan.FromSeconds(86400);

    /// <summary>Messages per channel before <see cref="ChannelFullException"/> (<c>capacity</c>, 100).</summary>
    public int Capacity { get; set; } = 100;

    /// <summary>Per-channel capacities by glob or regex, first match wins (<c>channel_capacity</c>).</summary>
    public IList<ChannelCapacityRule> ChannelCapacity { get; } = new List<ChannelCapacityRule>();

    /// <summary>
    /// <c>symmetric_encryption_keys</c>: when set, every message is encrypted (with <see cref="Cipher"/>,
    /// Fernet by default) with the first key and decrypted with any (rotation). Keys are any strings;
    /// for Fernet each becomes a Fernet key as channels_redis derives it (SHA-256, URL-safe base64),
    /// for the AEAD ciphers a key derived with HKDF-SHA256 (see <see cref="AeadCipher"/>).
    /// </summary>
    public IList<string> SymmetricEncryptionKeys { get; } = new List<string>();

    /// <summary>
    /// How messages are encrypted when <see cref="SymmetricEncryptionKeys"/> is set (not in
    /// channels_redis): <see cref="MessageCipher.Fernet"/> (the default, what Python reads), or
    /// <see cref="MessageCipher.XChaCha20Poly1305"/> / <see cref="MessageCipher.Aes256Gcm"/> for
    /// deployments whose processes are all Channels.Net. Every process sharing the prefix must use
    /// the same cipher; keys rotate the same way for all three.
    /// </summary>
    public MessageCipher Cipher { get; set; } = MessageCipher.Fernet;

    /// <summary>
    /// How many messages the in-process buffer of one of this process's channels (<c>specific.{client}!{id}</c>) may hold
    /// while its receiver is draining (default 100,000; not in channels_redis). The receive pump moves every message for
    /// this process out of Redis as soon as it arrives, so a burst waits in these buffers rather than in Redis: each
    /// holds the channel's capacity (<see cref="Capacity"/>, <see cref="ChannelCapacity"/>) whatever happens, and more,
    /// up to this limit, while its receiver took a message within the last 2 s. Beyond that a message for the channel is
    /// dropped and logged. A safety net against a receiver that reads but can never keep up: a lower value than the
    /// capacity means no more than the capacity.
    /// </summary>
    public int ReceiveBufferLimit { get; set; } = 100_000;

    /// <summary>How long one blocking pop waits before the receive pump looks again (channels_redis's <c>brpop_timeout</c>, 5 s).</summary>
    public TimeSpan BlockingPopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for Redis to connect before a start-up or send fails.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock for scores and expiry (tests may replace it).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is wrong.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Prefix, nameof(Prefix));
        if (Expiry < TimeSpan.FromSeconds(1) || Expiry.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Expiry), Expiry, "Expiry must be a whole number of seconds, at least 1 (Redis expires keys in seconds).");
        }

        if (GroupExpiry < TimeSpan.FromSeconds(1) || GroupExpiry.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(GroupExpiry), GroupExpiry, "GroupExpiry must be a whole number of seconds, at least 1.");
        }

        if (Capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity, "Capacity must be at least 1.");
        }

        if (ReceiveBufferLimit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferLimit), ReceiveBufferLimit, "ReceiveBufferLimit must be at least 1.");
        }

        if (BlockingPopTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockingPopTimeout), "BlockingPopTimeout and ConnectTimeout must be longer than zero.");
        }

        foreach (var key in SymmetricEncryptionKeys)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new ArgumentException("A symmetric encryption key must not be empty.", nameof(SymmetricEncryptionKeys));
            }
        }

        if (!Enum.IsDefined(Cipher))
        {
            throw new ArgumentOutOfRangeException(nameof(Cipher), Cipher, $"Cipher must be one of {string.Join(", ", Enum.GetNames<MessageCipher>())}.");
        }

        if (Cipher != MessageCipher.Fernet && SymmetricEncryptionKeys.Count == 0)
        {
            throw new ArgumentException($"Cipher {Cipher} needs SymmetricEncryptionKeys: without keys messages are not encrypted at all.", nameof(Cipher));
        }

        AeadCipher.RequireSupported(Cipher, AeadCipher.IsSupported(MessageCipher.Aes256Gcm));

        foreach (var host in Hosts)
        {
            _ = RedisAddress.ToConfiguration(host);
        }

        if (Cluster)
        {
            ClusterSeeds.Validate(Hosts);
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
