namespace Channels.Net.Redis.Crypto;

/// <summary>
/// How <see cref="RedisChannelLayer"/> encrypts messages when
/// <see cref="RedisChannelLayerOptions.SymmetricEncryptionKeys"/> is set
/// (<see cref="RedisChannelLayerOptions.Cipher"/>, configuration key <c>Cipher</c>).
/// </summary>
/// <remarks>
/// Every process that shares a prefix must use the same cipher and keys. Only <see cref="Fernet"/>
/// is readable by Python's channels_redis; the two AEAD ciphers are for deployments where every
/// process is Channels.Net. All three rotate keys the same way: the first key encrypts, every key
/// decrypts.
/// </remarks>
public enum MessageCipher
{
    /// <summary>channels_redis's Fernet (AES-128-CBC + HMAC-SHA256, base64): the default, read by Python peers.</summary>
    Fernet,

    /// <summary>
    /// XChaCha20-Poly1305 (libsodium through NSec) with 192-bit nonces (a random 160-bit prefix and a
    /// counter): fast on every CPU, no limit on messages per key worth stating. Channels.Net processes only.
    /// </summary>
    XChaCha20Poly1305,

    /// <summary>
    /// AES-256-GCM (libsodium through NSec), which needs AES-NI and CLMUL (x64) or the ARMv8
    /// cryptography extensions; start-up fails on a CPU without them. 96-bit nonces from a random
    /// 64-bit prefix and a 32-bit counter. Channels.Net processes only.
    /// </summary>
    Aes256Gcm,
}
