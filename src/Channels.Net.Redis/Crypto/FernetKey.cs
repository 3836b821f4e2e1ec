using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Channels.Net.Redis.Crypto;

/// <summary>
/// One 32-byte Fernet key: the first 16 bytes sign (HMAC-SHA256), the last 16 encrypt (AES-128-CBC).
/// </summary>
/// <remarks>
/// channels_redis does not use its <c>symmetric_encryption_keys</c> entries as Fernet keys
/// directly: it hashes each one, <c>urlsafe_b64encode(sha256(key.encode("utf8")))</c>, which is
/// what <see cref="FromSymmetricEncryptionKey(string)"/> does. <see cref="ToString"/> shows only the
/// <see cref="Fingerprint"/>, so a key can be logged by accident without leaking.
/// </remarks>
public sealed class FernetKey
{
    /// <summary>The length of a Fernet key in bytes.</summary>
    public const int KeyLength = 32;

    private readonly byte[] _key;

    private FernetKey(byte[] key)
    {
        _key = key;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        Fingerprint = Convert.ToHexStringLower(hash[..4]);
    }

    /// <summary>
    /// The first 8 lowercase hex digits of SHA-256 over the 32 key bytes; safe to log. In Python:
    /// <c>hashlib.sha256(base64.urlsafe_b64decode(fernet_key)).hexdigest()[:8]</c>.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>The HMAC-SHA256 key (the first half).</summary>
    internal ReadOnlySpan<byte> SigningKey => _key.AsSpan(0, 16);

    /// <summary>The AES-128 key (the second half).</summary>
    internal byte[] EncryptionKey => _key[16..];

    /// <summary>
    /// The Fernet key channels_redis makes from one <c>symmetric_encryption_keys</c> entry:
    /// SHA-256 of its UTF-8 bytes.
    /// </summary>
    public static FernetKey FromSymmetricEncryptionKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return FromSymmetricEncryptionKey(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>The Fernet key channels_redis makes from a <c>bytes</c> entry of <c>symmetric_encryption_keys</c>: its SHA-256.</summary>
    public static FernetKey FromSymmetricEncryptionKey(ReadOnlySpan<byte> key) => new(SHA256.HashData(key));

    /// <summary>
    /// Reads a Fernet key as Python's <c>Fernet(key)</c> takes it: 32 bytes in URL-safe base64
    /// (padding optional here).
    /// </summary>
    /// <exception cref="FormatException">The text is not URL-safe base64 of exactly 32 bytes.</exception>
    public static FernetKey Parse(string fernetKey)
    {
        ArgumentNullException.ThrowIfNull(fernetKey);
        var bytes = new byte[Base64Url.GetMaxDecodedLength(fernetKey.Length)];
        if (Base64Url.DecodeFromChars(fernetKey, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != KeyLength)
        {
            throw new FormatException("A Fernet key must be 32 URL-safe base64-encoded bytes.");
        }

        return new FernetKey(bytes[..KeyLength]);
    }

    /// <summary>Uses <paramref name="key"/> (exactly 32 bytes) as a Fernet key.</summary>
    public static FernetKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"A Fernet key is {KeyLength} bytes; this one is {key.Length}.", nameof(key));
        }

        return new FernetKey(key.ToArray());
    }

    /// <summary>A new random key (Python's <c>Fernet.generate_key()</c>).</summary>
    public static FernetKey Generate() => new(RandomNumberGenerator.GetBytes(KeyLength));

    /// <summary>The key as Python's <c>Fernet</c> takes it: URL-safe base64 with padding. This is the secret itself.</summary>
    public string Export()
    {
        var text = Convert.ToBase64String(_key);
        return text.Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Shows the fingerprint, never the key.</summary>
    public override string ToString() => $"FernetKey {Fingerprint}";
}
