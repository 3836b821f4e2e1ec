using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Channels.Net.Redis.Crypto;

/// <summary>
/// One key of an <see cref="AeadCipher"/>: 32 bytes derived from a <c>SymmetricEncryptionKeys</c>
/// entry with HKDF-SHA256, held by NSec (not exportable), and its 4-byte id.
/// </summary>
/// <remarks>
/// The derivation is <c>HKDF-SHA256(ikm = utf8(entry), salt = empty, info = "channels.net/" +
/// algorithm name, 32 bytes)</c>, so one secret gives unrelated keys for Fernet (SHA-256, as
/// channels_redis derives it), XChaCha20-Poly1305 and AES-256-GCM: a secret is never used raw by two
/// algorithms. The id is the first 4 bytes of SHA-256 over the derived key; its hex form is the
/// <see cref="Fingerprint"/> that logs and errors show (the same construction as
/// <see cref="FernetKey.Fingerprint"/>).
/// </remarks>
internal sealed class AeadKey : IDisposable
{
    /// <summary>The length of a key id in a token.</summary>
    public const int IdLength = 4;

    private readonly byte[] _id;

    private AeadKey(Key key, byte[] id)
    {
        Key = key;
        _id = id;
        Fingerprint = Convert.ToHexStringLower(id);
    }

    /// <summary>The NSec key.</summary>
    public Key Key { get; }

    /// <summary>The id written into every token this key makes.</summary>
    public ReadOnlySpan<byte> Id => _id;

    /// <summary>8 lowercase hex digits: the id, safe to log.</summary>
    public string Fingerprint { get; }

    /// <summary>The HKDF <c>info</c> of <paramref name="cipher"/>: <c>channels.net/xchacha20poly1305</c> or <c>channels.net/aes256gcm</c>.</summary>
    public static byte[] DerivationInfo(MessageCipher cipher) => cipher switch
    {
        MessageCipher.XChaCha20Poly1305 => "channels.net/xchacha20poly1305"u8.ToArray(),
        MessageCipher.Aes256Gcm => "channels.net/aes256gcm"u8.ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(cipher), cipher, "Only the AEAD ciphers derive keys with HKDF."),
    };

    /// <summary>Derives the key of <paramref name="cipher"/> from one <c>SymmetricEncryptionKeys</c> entry.</summary>
    public static AeadKey Derive(string secret, MessageCipher cipher, AeadAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var ikm = Encoding.UTF8.GetBytes(secret);
        Span<byte> derived = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, derived, salt: [], info: DerivationInfo(cipher));
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(derived, hash);
            var key = Key.Import(algorithm, derived, KeyBlobFormat.RawSymmetricKey);
            return new AeadKey(key, hash[..IdLength].ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
            CryptographicOperations.ZeroMemory(ikm);
        }
    }

    /// <summary>Frees the key's memory.</summary>
    public void Dispose() => Key.Dispose();

    /// <summary>Shows the fingerprint, never the key.</summary>
    public override string ToString() => $"AeadKey {Fingerprint}";
}
