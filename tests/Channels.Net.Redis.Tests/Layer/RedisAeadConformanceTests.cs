using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// The published conformance suite against a real redis-server with every message encrypted by an
/// AEAD cipher (two keys, mid-rotation); see <see cref="RedisConformanceTests"/> for the plain run.
/// </summary>
public abstract class RedisAeadConformanceTests(RedisServer server, MessageCipher cipher) : RedisLayerConformanceTests
{
    protected override IReadOnlyList<(string EndPoint, string? Password)> DataServers => [($"127.0.0.1:{server.Port}", null)];

    protected override void Configure(RedisChannelLayerOptions options)
    {
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        options.Cipher = cipher;
        options.SymmetricEncryptionKeys.Add("conformance new key");
        options.SymmetricEncryptionKeys.Add("conformance old key");
    }
}

/// <summary>The conformance suite with <see cref="MessageCipher.XChaCha20Poly1305"/>.</summary>
public sealed class RedisXChaCha20Poly1305ConformanceTests(RedisServer server)
    : RedisAeadConformanceTests(server, MessageCipher.XChaCha20Poly1305), IClassFixture<RedisServer>;

/// <summary>The conformance suite with <see cref="MessageCipher.Aes256Gcm"/>.</summary>
public sealed class RedisAes256GcmConformanceTests(RedisServer server)
    : RedisAeadConformanceTests(server, MessageCipher.Aes256Gcm), IClassFixture<RedisServer>;
