namespace Channels.Net.Redis.Crypto;

/// <summary>
/// Encrypts message payloads before they are stored in Redis and decrypts them when read.
/// <see cref="FernetCipher"/> is the one channels_redis speaks (the default); <see cref="AeadCipher"/>
/// (XChaCha20-Poly1305 or AES-256-GCM through NSec) is the opt-in for deployments with no Python
/// peer, chosen with <see cref="RedisChannelLayerOptions.Cipher"/>.
/// </summary>
/// <remarks>
/// Implementations are safe to use from many threads at once. The span methods let a caller
/// encrypt straight into the buffer it stores, and decrypt into a pooled one: ask
/// <see cref="GetCiphertextLength"/> or <see cref="GetMaxPlaintextLength"/> for the size first.
/// Source and destination must not overlap.
/// </remarks>
public interface ISymmetricCipher
{
    /// <summary>A short name of the algorithm and format, for logs (for example <c>fernet</c>).</summary>
    string Algorithm { get; }

    /// <summary>The exact length of what <see cref="Encrypt(ReadOnlySpan{byte}, Span{byte})"/> writes for <paramref name="plaintextLength"/> bytes.</summary>
    int GetCiphertextLength(int plaintextLength);

    /// <summary>An upper bound of what <see cref="Decrypt(ReadOnlySpan{byte}, Span{byte})"/> writes for <paramref name="ciphertextLength"/> bytes.</summary>
    int GetMaxPlaintextLength(int ciphertextLength);

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="destination"/> and returns how many bytes were written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="GetCiphertextLength"/>.</exception>
    int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination);

    /// <summary>Verifies and decrypts <paramref name="ciphertext"/> into <paramref name="destination"/> and returns how many bytes were written.</summary>
    /// <exception cref="InvalidTokenException">The ciphertext is malformed, expired, or was not made with any of this cipher's keys.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short for the plaintext.</exception>
    int Decrypt(ReadOnlySpan<byte> ciphertext, Span<byte> destination);

    /// <summary>Encrypts <paramref name="plaintext"/> into a new array.</summary>
    byte[] Encrypt(ReadOnlySpan<byte> plaintext);

    /// <summary>Verifies and decrypts <paramref name="ciphertext"/> into a new array.</summary>
    /// <exception cref="InvalidTokenException">The ciphertext is malformed, expired, or was not made with any of this cipher's keys.</exception>
    byte[] Decrypt(ReadOnlySpan<byte> ciphertext);
}
