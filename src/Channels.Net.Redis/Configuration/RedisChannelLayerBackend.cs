using System.Globalization;
using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Channels.Net.Redis.Crypto;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Channels.Net.Redis.Connections;

[assembly: ChannelLayerBackend(typeof(Channels.Net.Redis.Configuration.RedisChannelLayerBackend))]

namespace Channels.Net.Redis.Configuration;

/// <summary>
/// Configuration binding of <see cref="RedisChannelLayer"/>: backend <c>Redis</c> (or
/// <c>channels_redis.core.RedisChannelLayer</c>), options <c>Hosts</c>, <c>Prefix</c>, <c>Expiry</c>,
/// <c>GroupExpiry</c>, <c>Capacity</c>, <c>ChannelCapacity</c>, <c>SymmetricEncryptionKeys</c>, <c>Cipher</c>, <c>Cluster</c>,
/// and <c>ReceiveBufferLimit</c> (<see cref="RedisChannelLayerOptions.ReceiveBufferLimit"/>, not in channels_redis).
/// </summary>
/// <remarks>
/// <c>Hosts</c> is a list whose entries are URLs (<c>Hosts:0=redis://127.0.0.1:6379/0</c>),
/// <c>[host, port]</c> pairs (<c>Hosts:0:0=10.0.0.5</c>, <c>Hosts:0:1=6379</c>), or sections with
/// <c>Address</c>, <c>Host</c>/<c>Port</c>, or <c>Sentinels</c>/<c>MasterName</c> (channels_redis's
/// <c>sentinels</c>/<c>master_name</c>), with <c>Password</c> and <c>Database</c> for the Redis servers
/// and <c>SentinelPassword</c> for the sentinels (channels_redis's <c>sentinel_kwargs</c> password).
/// <c>Cipher</c> is a <see cref="MessageCipher"/> name (<c>Fernet</c>, <c>XChaCha20Poly1305</c>,
/// <c>Aes256Gcm</c>; case, <c>-</c> and <c>_</c> ignored, so <c>xchacha20-poly1305</c> and
/// <c>AES-256-GCM</c> are accepted too).
/// <c>Cluster=true</c> makes the entries seed nodes of one Redis Cluster (<see cref="RedisChannelLayerOptions.Cluster"/>).
/// </remarks>
public sealed class RedisChannelLayerBackend : ChannelLayerBackend
{
    /// <inheritdoc />
    public override IReadOnlyList<string> Names { get; } =
    [
        "Redis",
        nameof(RedisChannelLayer),
        typeof(RedisChannelLayer).FullName!,
        "channels_redis.core.RedisChannelLayer",
    ];

    /// <inheritdoc />
    public override Func<IServiceProvider, IChannelLayer> Bind(ChannelLayerConfigReader config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var defaults = new RedisChannelLayerOptions();
        var hosts = ReadHosts(config);
        var prefix = config.GetString("Prefix", defaults.Prefix)!;
        var expiry = config.GetDuration("Expiry", defaults.Expiry, TimeSpan.Zero);
        var groupExpiry = config.GetDuration("GroupExpiry", defaults.GroupExpiry, TimeSpan.Zero);
        var capacity = config.GetInt32("Capacity", defaults.Capacity, min: 1);
        var rules = config.GetCapacityRules("ChannelCapacity");
        var receiveBufferLimit = config.GetInt32("ReceiveBufferLimit", defaults.ReceiveBufferLimit, min: 1);
        var keys = config.GetStringList("SymmetricEncryptionKeys") ?? [];
        var cipher = ReadCipher(config, defaults.Cipher);
        var cluster = ReadCluster(config);
        config.EnsureAllKeysRead();

        var options = new RedisChannelLayerOptions
        {
            Prefix = prefix,
            Expiry = expiry,
            GroupExpiry = groupExpiry,
            Capacity = capacity,
            ReceiveBufferLimit = receiveBufferLimit,
            Cipher = cipher,
            Cluster = cluster,
        };
        foreach (var host in hosts)
        {
            options.Hosts.Add(host);
        }

        foreach (var rule in rules)
        {
            options.ChannelCapacity.Add(rule);
        }

        foreach (var key in keys)
        {
            options.SymmetricEncryptionKeys.Add(key);
        }

        Validate(config, options.Validate);

        return services =>
        {
            options.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
            return new RedisChannelLayer(options, services.GetService<ILoggerFactory>());
        };
    }

    /// <summary>
    /// Runs an options type's own validation and reports what it refuses as a configuration error naming the
    /// key (a host's error names <c>Hosts</c>); shared by the core and pub/sub backends.
    /// </summary>
    internal static void Validate(ChannelLayerConfigReader config, Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException ex)
        {
            var key = ex.ParamName is { Length: > 0 } name && name != "host" ? name : "Hosts";
            throw config.Error(key, ex.Message);
        }
    }

    internal static List<RedisHost> ReadHosts(ChannelLayerConfigReader config)
    {
        var section = config.GetSection("Hosts");
        var hosts = new List<RedisHost>();
        if (section is null)
        {
            return hosts;
        }

        if (section.Value is not null)
        {
            throw config.Error(section.Key, $"expected a list of hosts ({section.Path}:0=redis://...), even for one host, not the single value '{RedisAddress.Redact(section.Value)}'.");
        }

        foreach (var entry in section.GetChildren())
        {
            var key = $"{section.Key}:{entry.Key}";
            RedisHost host;
            if (entry.Value is not null)
            {
                host = RedisHost.FromAddress(entry.Value);
            }
            else if (entry.GetSection("0").Value is { } pairHost && entry.GetChildren().Count() == 2)
            {
                host = RedisHost.FromHostPort(pairHost, ParsePort(config, $"{key}:1", entry.GetSection("1").Value));
            }
            else
            {
                var reader = new ChannelLayerConfigReader(config.Alias, entry);
                var address = reader.GetString("Address");
                var name = reader.GetString("Host");
                var port = reader.GetString("Port");
                var sentinels = reader.GetStringList("Sentinels");
                var master = reader.GetString("MasterName");
                var password = reader.GetString("Password");
                var database = reader.GetInt32("Database", 0, min: 0);
                var sentinelPassword = reader.GetString("SentinelPassword");
                reader.EnsureAllKeysRead();
                host = (address, name, master) switch
                {
                    ({ }, null, null) => RedisHost.FromAddress(address),
                    (null, { }, null) => RedisHost.FromHostPort(name, port is null ? 6379 : ParsePort(config, $"{key}:Port", port)),
                    (null, null, { }) when sentinels is { Count: > 0 } => RedisHost.FromSentinels(master, sentinels),
                    _ => throw config.Error(key, "a host needs exactly one of: Address; Host (and Port); Sentinels with MasterName."),
                };
                host = host with { Password = password, Database = database, SentinelPassword = sentinelPassword };
            }

            try
            {
                _ = RedisAddress.ToConfiguration(host);
            }
            catch (ArgumentException ex)
            {
                throw config.Error(key, ex.Message);
            }

            hosts.Add(host);
        }

        return hosts;
    }

    private static MessageCipher ReadCipher(ChannelLayerConfigReader config, MessageCipher defaultValue)
    {
        var text = config.GetString("Cipher");
        if (text is null)
        {
            return defaultValue;
        }

        var wanted = text.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).Trim();
        foreach (var cipher in Enum.GetValues<MessageCipher>())
        {
            if (string.Equals(cipher.ToString(), wanted, StringComparison.OrdinalIgnoreCase))
            {
                return cipher;
            }
        }

        throw config.Error("Cipher", $"expected one of {string.Join(", ", Enum.GetNames<MessageCipher>())}, got '{text}'.");
    }

    private static bool ReadCluster(ChannelLayerConfigReader config)
    {
        var text = config.GetString("Cluster");
        return text is null ? false
            : bool.TryParse(text, out var cluster) ? cluster
            : throw config.Error("Cluster", $"expected true or false, got '{text}'.");
    }

    private static int ParsePort(ChannelLayerConfigReader config, string key, string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? port
            : throw config.Error(key, $"expected a port between 1 and 65535, got '{text}'.");
}
