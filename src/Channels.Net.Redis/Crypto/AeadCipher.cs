using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Channels.Net.Redis.Crypto;

/// <summary>
/// XChaCha20-Poly1305 or AES-256-GCM message encryption (libsodium through NSec.Cryptography): the
/// opt-in <see cref="ISymmetricCipher"/> for deployments where every process is Channels.Net.
/// Python's channels_redis cannot read its tokens; <see cref="FernetCipher"/> stays the default.
/// </summary>
/// <remarks>
/// <para>A token is binary (Redis members are bytes, so no base64):
/// <c>version (1 byte: 0xC1 XChaCha20-Poly1305, 0xC2 AES-256-GCM) | key id (4 bytes) | timestamp
/// (8 bytes, big-endian Unix seconds) | nonce (24 or 12 bytes) | ciphertext | tag (16 bytes)</c>.
/// The first 13 bytes are the associated data, so the version, key id and timestamp are
/// authenticated with the message; the nonce is bound by the algorithm itself.</para>
/// <para>Keys come from the same <c>SymmetricEncryptionKeys</c> strings as Fernet's, through a
/// domain-separated HKDF-SHA256 (see <see cref="KeyFingerprints"/>). The first key encrypts; a
/// token names its key by id, so decryption goes straight to that key (rotation works as with
/// Fernet: put the new key second everywhere, then first, then drop the old one).</para>
/// <para>Time: as Fernet, with a <see cref="TimeToLive"/> a token is refused when
/// <c>timestamp + ttl &lt; now</c> or <c>now + 60 s &lt; timestamp</c>, in whole Unix seconds from the
/// <see cref="TimeProvider"/>. Unlike Fernet, the time is checked after the tag, so a forged or
/// altered token is always reported as such.</para>
/// <para>Nonces are a random prefix per cipher instance (160 bits for XChaCha20-Poly1305's 24-byte
/// nonces, 64 bits for AES-GCM's 12) and a 32-bit counter, the prefix redrawn when the counter wraps:
/// one instance never repeats a nonce, and two repeat one only if they draw the same prefix (at most
/// P²/2^161, or P²/2^65 for AES-GCM, for P prefixes under one key). Twelve random bytes per message
/// would instead cap an AES-GCM key at about 2^32 messages; and the operating system's generator, called
/// per message, costs more than the encryption itself on some virtual machines.</para>
/// <para>Safe to use from many threads at once. Dispose it to free the keys' memory.</para>
/// </remarks>
public sealed class AeadCipher : ISymmetricCipher, IDisposable
{
    /// <summary>How far in the future a token's timestamp may be before it is refused (as Fernet's).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(60);

    /// <summary>The error for AES-256-GCM on a CPU that libsodium cannot run it on.</summary>
    internal const string Aes256GcmUnsupported =
        "AES-256-GCM is not available on this machine: libsodium runs it only on CPUs with AES-NI and CLMUL (x64) or the ARMv8 cryptography extensions. Use Cipher XChaCha20Poly1305 instead (every process must use the same cipher).";

    internal const byte XChaCha20Poly1305Version = 0xC1;
    internal const byte Aes256GcmVersion = 0xC2;
    internal const int KeyIdOffset = 1;
    internal const int TimestampOffset = KeyIdOffset + AeadKey.IdLength;
    internal const int HeaderLength = TimestampOffset + 8;

    private readonly AeadAlgorithm _algorithm;
    private readonly AeadKey[] _keys;
    private readonly string[] _fingerprints;
    private readonly CountingNonceSource _nonces;
    private readonly TimeProvider _timeProvider;
    private readonly byte _version;
    private readonly int _nonceLength;
    private readonly int _tagLength;
    private readonly int _overhead;
    private readonly string _name;

    private AeadCipher(MessageCipher cipher, IEnumerable<string> symmetricEncryptionKeys, TimeSpan? timeToLive, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(symmetricEncryptionKeys);
        (_algorithm, _version, _name) = cipher switch
        {
            MessageCipher.XChaCha20Poly1305 => ((AeadAlgorithm)AeadAlgorithm.XChaCha20Poly1305, XChaCha20Poly1305Version, "XChaCha20-Poly1305"),
            MessageCipher.Aes256Gcm when !Aes256Gcm.IsSupported => throw new PlatformNotSupportedException(Aes256GcmUnsupported),
            MessageCipher.Aes256Gcm => (AeadAlgorithm.Aes256Gcm, Aes256GcmVersion, "AES-256-GCM"),
            _ => throw new ArgumentOutOfRangeException(nameof(cipher), cipher, "AeadCipher does XChaCha20Poly1305 and Aes256Gcm; Fernet is FernetCipher."),
        };

        var secrets = symmetricEncryptionKeys.ToArray();
        if (secrets.Length == 0)
        {
            throw new ArgumentException($"An {_name} cipher needs at least one key.", nameof(symmetricEncryptionKeys));
        }

        _keys = new AeadKey[secrets.Length];
        try
        {
            for (var i = 0; i < secrets.Length; i++)
            {
                if (string.IsNullOrEmpty(secrets[i]))
                {
                    throw new ArgumentException($"Key {i} is null or empty.", nameof(symmetricEncryptionKeys));
                }

                _keys[i] = AeadKey.Derive(secrets[i], cipher, _algorithm);
            }
        }
        catch
        {
            foreach (var key in _keys)
            {
                key?.Dispose();
            }

            throw;
        }

        Cipher = cipher;
        _fingerprints = [.. _keys.Select(static k => k.Fingerprint)];
        _nonceLength = _algorithm.NonceSize;
        _tagLength = _algorithm.TagSize;
        _overhead = HeaderLength + _nonceLength + _tagLength;
        _nonces = new CountingNonceSource(_nonceLength);
        TimeToLive = timeToLive;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// A cipher whose keys are derived from <paramref name="symmetricEncryptionKeys"/> (the layer's
    /// <c>SymmetricEncryptionKeys</c>); the first encrypts, any decrypts.
    /// </summary>
    /// <param name="cipher"><see cref="MessageCipher.XChaCha20Poly1305"/> or <see cref="MessageCipher.Aes256Gcm"/>.</param>
    /// <param name="symmetricEncryptionKeys">At least one non-empty secret; the first encrypts.</param>
    /// <param name="timeToLive">How old a token may be when decrypted; null for no time checks.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">No key, an empty key, or <paramref name="cipher"/> is not an AEAD cipher.</exception>
    /// <exception cref="PlatformNotSupportedException">AES-256-GCM on a CPU without AES-NI/CLMUL or ARMv8 cryptography extensions.</exception>
    public static AeadCipher FromSymmetricEncryptionKeys(MessageCipher cipher, IEnumerable<string> symmetricEncryptionKeys, TimeSpan? timeToLive = null, TimeProvider? timeProvider = null) =>
        new(cipher, symmetricEncryptionKeys, timeToLive, timeProvider);

    /// <summary>True when <paramref name="cipher"/> can run here (false only for AES-256-GCM without hardware support).</summary>
    public static bool IsSupported(MessageCipher cipher) => cipher != MessageCipher.Aes256Gcm || Aes256Gcm.IsSupported;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <see cref="RedisChannelLayerOptions.Cipher"/>)
    /// when <paramref name="cipher"/> is AES-256-GCM and <paramref name="aes256GcmSupported"/> is false.
    /// </summary>
    internal static void RequireSupported(MessageCipher cipher, bool aes256GcmSupported)
    {
        if (cipher == MessageCipher.Aes256Gcm && !aes256GcmSupported)
        {
            throw new ArgumentException(Aes256GcmUnsupported, "Cipher");
        }
    }

    /// <summary>Which AEAD cipher this is.</summary>
    public MessageCipher Cipher { get; }

    /// <inheritdoc />
    public string Algorithm => Cipher == MessageCipher.XChaCha20Poly1305 ? "xchacha20-poly1305" : "aes-256-gcm";

    /// <summary>
    /// The keys' fingerprints, the encrypting one first: 8 hex digits of SHA-256 over each derived key,
    /// which is also the key id every token carries. Safe to log.
    /// </summary>
    public IReadOnlyList<string> KeyFingerprints => _fingerprints;

    /// <summary>How old a token may be when decrypted, or null for no time checks.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <inheritdoc />
    public int GetCiphertextLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        var length = (long)plaintextLength + _overhead;
        if (length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintextLength), plaintextLength, "The token would be too large for an array.");
        }

        return (int)length;
    }

    /// <inheritdoc />
    public int GetMaxPlaintextLength(int ciphertextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ciphertextLength);
        return Math.Max(0, ciphertextLength - _overhead);
    }

    /// <inheritdoc />
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var token = new byte[GetCiphertextLength(plaintext.Length)];
        Encrypt(plaintext, token);
        return token;
    }

    /// <inheritdoc />
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (now < 0)
        {
            throw new InvalidOperationException("The clock reads a time before 1970; a token timestamp cannot hold it.");
        }

        return EncryptAtTime(plaintext, (ulong)now, destination);
    }

    /// <inheritdoc />
    public byte[] Decrypt(ReadOnlySpan<byte> ciphertext)
    {
        var plaintext = new byte[GetMaxPlaintextLength(ciphertext.Length)];
        var written = Decrypt(ciphertext, plaintext);
        return written == plaintext.Length ? plaintext : plaintext[..written];
    }

    /// <inheritdoc />
    public int Decrypt(ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        if (ciphertext.IsEmpty)
        {
            throw Invalid(InvalidTokenReason.Malformed, "The token is empty.");
        }

        if (ciphertext[0] != _version)
        {
            throw Invalid(InvalidTokenReason.Malformed, DescribeVersion(ciphertext[0]));
        }

        if (ciphertext.Length < _overhead)
        {
            throw Invalid(InvalidTokenReason.Malformed, $"The token holds {ciphertext.Length} bytes; an {_name} token holds at least {_overhead}.");
        }

        var plaintextLength = ciphertext.Length - _overhead;
        if (destination.Length < plaintextLength)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} bytes, too few for the {plaintextLength}-byte plaintext; size it with GetMaxPlaintextLength.",
                nameof(destination));
        }

        var header = ciphertext[..HeaderLength];
        var keyId = header.Slice(KeyIdOffset, AeadKey.IdLength);
        var nonce = ciphertext.Slice(HeaderLength, _nonceLength);
        var sealedPart = ciphertext[(HeaderLength + _nonceLength)..];
        var plaintext = destination[..plaintextLength];
        var idMatched = false;
        foreach (var key in _keys)
        {
            if (!key.Id.SequenceEqual(keyId))
            {
                continue;
            }

            idMatched = true;
            if (_algorithm.Decrypt(key.Key, nonce, header, sealedPart, plaintext))
            {
                CheckTime(BinaryPrimitives.ReadUInt64BigEndian(header[TimestampOffset..]), plaintext);
                return plaintextLength;
            }
        }

        var tokenKey = Convert.ToHexStringLower(keyId);
        throw idMatched
            ? Invalid(InvalidTokenReason.SignatureMismatch, $"The token names key {tokenKey} but does not authenticate with it: it was altered, or made with another secret whose id is the same.")
            : Invalid(InvalidTokenReason.SignatureMismatch, $"The token was made with key {tokenKey}, which this process does not have. Is the sender using one of the same SymmetricEncryptionKeys?");
    }

    /// <summary>Frees the keys' memory; the cipher cannot be used afterwards.</summary>
    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }

    /// <summary>Encrypts with a given timestamp (tests make old and future tokens with it).</summary>
    internal int EncryptAtTime(ReadOnlySpan<byte> plaintext, ulong timestamp, Span<byte> destination)
    {
        var tokenLength = GetCiphertextLength(plaintext.Length);
        if (destination.Length < tokenLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the token needs {tokenLength}.", nameof(destination));
        }

        var token = destination[..tokenLength];
        var key = _keys[0];
        token[0] = _version;
        key.Id.CopyTo(token[KeyIdOffset..]);
        BinaryPrimitives.WriteUInt64BigEndian(token[TimestampOffset..], timestamp);
        var nonce = token.Slice(HeaderLength, _nonceLength);
        _nonces.Next(nonce);

        _algorithm.Encrypt(key.Key, nonce, token[..HeaderLength], plaintext, token[(HeaderLength + _nonceLength)..]);
        return tokenLength;
    }

    private void CheckTime(ulong timestamp, Span<byte> plaintext)
    {
        if (TimeToLive is not { } ttl)
        {
            return;
        }

        var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        var age = (Int128)now - timestamp;
        DateTimeOffset? stamped = timestamp <= (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds((long)timestamp)
            : null;
        if (age * TimeSpan.TicksPerSecond > ttl.Ticks)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw Invalid(
                InvalidTokenReason.Expired,
                $"The token was made {age} s ago (at Unix time {timestamp}); the time to live is {ttl.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s. A slow reader, or a clock behind the sender's, causes this.",
                stamped);
        }

        if (-age > (long)MaxClockSkew.TotalSeconds)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw Invalid(
                InvalidTokenReason.FromTheFuture,
                $"The token is stamped {-age} s in the future (Unix time {timestamp}); more than {MaxClockSkew.TotalSeconds} s of clock skew is refused. Check the clocks of both processes.",
                stamped);
        }
    }

    private string DescribeVersion(byte version) => version switch
    {
        XChaCha20Poly1305Version or Aes256GcmVersion =>
            $"The token is {(version == XChaCha20Poly1305Version ? "XChaCha20-Poly1305" : "AES-256-GCM")}, but this process uses {_name}: every process must use the same Cipher.",
        (byte)'g' => $"The token looks like Fernet (it starts with 'g'), but this process uses {_name}: every process must use the same Cipher, and Python's channels_redis speaks only Fernet.",
        _ => $"The token's version byte is 0x{version:x2}, not 0x{_version:x2} ({_name}). Is the sender unencrypted, or using another Cipher?",
    };

    private InvalidTokenException Invalid(InvalidTokenReason reason, string detail, DateTimeOffset? timestamp = null) =>
        new($"{_name} token refused ({reason}): {detail} Key fingerprints tried: {string.Join(", ", _fingerprints)}.", reason, _fingerprints, timestamp);
}
