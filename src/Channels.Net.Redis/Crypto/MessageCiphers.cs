using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Crypto;

/// <summary>Builds the cipher a layer's options ask for, and says at start-up which one it is.</summary>
internal static class MessageCiphers
{
    /// <summary>
    /// The <paramref name="cipher"/> over <paramref name="keys"/> (null when there are none), with a time to live of
    /// <c><paramref name="expiry"/> + 10 s</c> as channels_redis gives Fernet; logs which cipher and key fingerprints are in use.
    /// </summary>
    /// <param name="keys">The layer's <c>SymmetricEncryptionKeys</c>: the first encrypts, all decrypt.</param>
    /// <param name="cipher">The layer's <c>Cipher</c>.</param>
    /// <param name="expiry">The layer's message expiry.</param>
    /// <param name="time">The layer's clock (token timestamps and their time to live).</param>
    /// <param name="logger">Told which cipher is in use.</param>
    public static ISymmetricCipher? Create(IReadOnlyList<string> keys, MessageCipher cipher, TimeSpan expiry, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(logger);
        if (keys.Count == 0)
        {
            CipherLog.NotEncrypted(logger);
            return null;
        }

        var ttl = expiry + TimeSpan.FromSeconds(10);
        if (cipher == MessageCipher.Fernet)
        {
            var fernet = FernetCipher.FromSymmetricEncryptionKeys(keys, ttl, time);
            CipherLog.Encrypted(logger, "Fernet", string.Join(", ", fernet.Keys.Select(static k => k.Fingerprint)), "channels_redis (Python) processes with the same keys can read them");
            return fernet;
        }

        var aead = AeadCipher.FromSymmetricEncryptionKeys(cipher, keys, ttl, time);
        CipherLog.Encrypted(
            logger,
            cipher == MessageCipher.XChaCha20Poly1305 ? "XChaCha20-Poly1305" : "AES-256-GCM",
            string.Join(", ", aead.KeyFingerprints),
            $"only Channels.Net processes with Cipher {cipher} and the same keys can read them; channels_redis (Python) cannot");
        return aead;
    }
}
