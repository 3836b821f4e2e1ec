using Channels.Net.Layers;
using Channels.Net.Redis.Crypto;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// The published conformance suite against a real redis-server with every message encrypted by an
/// AEAD cipher (two keys, mid-rotation); see <see cref="RedisConformanceTests"/> for the plain run.
/// </summary>
public abstract class RedisAeadConformanceTests(RedisServer server, MessageCipher cipher) : ChannelLayerConformanceTests
{
    protected override bool ExpiredMessageLeavesGroups => false;

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        var layerOptions = new RedisChannelLayerOptions
        {
            Prefix = $"conf{Guid.NewGuid():N}",
            Expiry = RoundUp(options.Expiry),
            GroupExpiry = RoundUp(options.GroupExpiry),
            Capacity = options.Capacity,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
            Cipher = cipher,
        };
        layerOptions.Hosts.Add(RedisHost.FromAddress(server.Url));
        layerOptions.SymmetricEncryptionKeys.Add("conformance new key");
        layerOptions.SymmetricEncryptionKeys.Add("conformance old key");
        foreach (var rule in options.ChannelCapacity)
        {
            layerOptions.ChannelCapacity.Add(rule);
        }

        return ValueTask.FromResult<IChannelLayer>(new RedisChannelLayer(layerOptions));
    }

    private static TimeSpan RoundUp(TimeSpan span) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(span.TotalSeconds)));
}

/// <summary>The conformance suite with <see cref="MessageCipher.XChaCha20Poly1305"/>.</summary>
public sealed class RedisXChaCha20Poly1305ConformanceTests(RedisServer server)
    : RedisAeadConformanceTests(server, MessageCipher.XChaCha20Poly1305), IClassFixture<RedisServer>;

/// <summary>The conformance suite with <see cref="MessageCipher.Aes256Gcm"/>.</summary>
public sealed class RedisAes256GcmConformanceTests(RedisServer server)
    : RedisAeadConformanceTests(server, MessageCipher.Aes256Gcm), IClassFixture<RedisServer>;
