using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Crypto;

/// <summary>Builds the cipher <see cref="RedisChannelLayerOptions"/> ask for, and says at start-up which one it is.</summary>
internal static class MessageCiphers
{
    /// <summary>
    /// The cipher of <paramref name="options"/> (null when it has no keys), with a time to live of
    /// <c>Expiry + 10 s</c> as channels_redis gives Fernet; logs which cipher and key fingerprints are in use.
    /// </summary>
    public static ISymmetricCipher? Create(RedisChannelLayerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.SymmetricEncryptionKeys.Count == 0)
        {
            CipherLog.NotEncrypted(logger);
            return null;
        }

        var ttl = options.Expiry + TimeSpan.FromSeconds(10);
        if (options.Cipher == MessageCipher.Fernet)
        {
            var fernet = FernetCipher.FromSymmetricEncryptionKeys(options.SymmetricEncryptionKeys, ttl, options.TimeProvider);
            CipherLog.Encrypted(logger, "Fernet", string.Join(", ", fernet.Keys.Select(static k => k.Fingerprint)), "channels_redis (Python) processes with the same keys can read them");
            return fernet;
        }

        var aead = AeadCipher.FromSymmetricEncryptionKeys(options.Cipher, options.SymmetricEncryptionKeys, ttl, options.TimeProvider);
        CipherLog.Encrypted(
            logger,
            options.Cipher == MessageCipher.XChaCha20Poly1305 ? "XChaCha20-Poly1305" : "AES-256-GCM",
            string.Join(", ", aead.KeyFingerprints),
            $"only Channels.Net processes with Cipher {options.Cipher} and the same keys can read them; channels_redis (Python) cannot");
        return aead;
    }
}
