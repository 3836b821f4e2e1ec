using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;

namespace Channels.Net.Redis.Crypto;

/// <summary>
/// Fernet exactly as Python's <c>cryptography.fernet.MultiFernet</c> (with one key, <c>Fernet</c>):
/// what channels_redis uses when <c>symmetric_encryption_keys</c> is set.
/// </summary>
/// <remarks>
/// <para>A token is URL-safe base64 (with padding) of <c>0x80 | timestamp (8 bytes, big-endian
/// Unix seconds) | IV (16 bytes) | AES-128-CBC ciphertext with PKCS7 padding | HMAC-SHA256 of all
/// that precedes it</c>. Tokens are made with the first key; any key may open one, so keys rotate
/// by putting the new key first on every process, then dropping the old one.</para>
/// <para>With a <see cref="TimeToLive"/> (channels_redis passes <c>expiry + 10</c> seconds), a
/// token is refused when <c>timestamp + ttl &lt; now</c>, and also when
/// <c>now + 60 &lt; timestamp</c> (Python's <c>_MAX_CLOCK_SKEW</c>: a token from more than a minute
/// in the future). Both use whole Unix seconds, <c>int(time.time())</c>, from the
/// <see cref="TimeProvider"/>. Without a time to live neither check is made, as in Python.</para>
/// <para>Python checks the time before the signature, so an expired token is refused as expired
/// whatever its key; this class does the same. Tokens are decoded with the URL-safe alphabet,
/// padding optional; Python also tolerates <c>+</c>, <c>/</c> and stray characters, which no Fernet
/// implementation writes.</para>
/// <para>Safe to use from many threads at once.</para>
/// </remarks>
public sealed class FernetCipher : ISymmetricCipher
{
    /// <summary>How far in the future a token's timestamp may be before it is refused (Python's <c>_MAX_CLOCK_SKEW</c>).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(60);

    private const byte Version = 0x80;
    private const int TimestampOffset = 1;
    private const int IvOffset = 9;
    private const int IvLength = 16;
    private const int CiphertextOffset = IvOffset + IvLength;
    private const int HmacLength = 32;
    private const int Overhead = CiphertextOffset + HmacLength;
    private const int BlockSize = 16;

    private readonly FernetKey[] _keys;
    private readonly Aes[] _aes;
    private readonly string[] _fingerprints;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates a cipher that encrypts with the first of <paramref name="keys"/> and decrypts with any.</summary>
    /// <param name="keys">At least one key; the first encrypts.</param>
    /// <param name="timeToLive">How old a token may be when decrypted; null for no time checks.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException"><paramref name="keys"/> is empty or holds null.</exception>
    public FernetCipher(IEnumerable<FernetKey> keys, TimeSpan? timeToLive = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys.ToArray();
        if (_keys.Length == 0)
        {
            throw new ArgumentException("A Fernet cipher needs at least one key (Python's MultiFernet refuses an empty list too).", nameof(keys));
        }

        _aes = new Aes[_keys.Length];
        _fingerprints = new string[_keys.Length];
        for (var i = 0; i < _keys.Length; i++)
        {
            var key = _keys[i] ?? throw new ArgumentException($"Key {i} is null.", nameof(keys));
            var aes = Aes.Create();
            aes.Key = key.EncryptionKey;
            _aes[i] = aes;
            _fingerprints[i] = key.Fingerprint;
        }

        TimeToLive = timeToLive;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// The cipher channels_redis builds from <c>symmetric_encryption_keys</c>: each entry hashed
    /// into a Fernet key (<see cref="FernetKey.FromSymmetricEncryptionKey(string)"/>), the first encrypting.
    /// </summary>
    public static FernetCipher FromSymmetricEncryptionKeys(IEnumerable<string> symmetricEncryptionKeys, TimeSpan? timeToLive = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(symmetricEncryptionKeys);
        return new FernetCipher(symmetricEncryptionKeys.Select(FernetKey.FromSymmetricEncryptionKey), timeToLive, timeProvider);
    }

    /// <inheritdoc />
    public string Algorithm => "fernet";

    /// <summary>The keys, the encrypting one first.</summary>
    public IReadOnlyList<FernetKey> Keys => _keys;

    /// <summary>How old a token may be when decrypted, or null for no time checks.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <inheritdoc />
    public int GetCiphertextLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        var raw = (long)Overhead + ((plaintextLength / BlockSize) + 1) * BlockSize;
        var encoded = (raw + 2) / 3 * 4;
        if (encoded > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintextLength), plaintextLength, "The token would be too large for an array.");
        }

        return (int)encoded;
    }

    /// <inheritdoc />
    public int GetMaxPlaintextLength(int ciphertextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ciphertextLength);
        return Math.Max(0, Base64Url.GetMaxDecodedLength(ciphertextLength) - Overhead);
    }

    /// <inheritdoc />
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var token = new byte[GetCiphertextLength(plaintext.Length)];
        var written = Encrypt(plaintext, token);
        return written == token.Length ? token : token[..written];
    }

    /// <inheritdoc />
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (now < 0)
        {
            throw new InvalidOperationException("The clock reads a time before 1970; a Fernet timestamp cannot hold it.");
        }

        Span<byte> iv = stackalloc byte[IvLength];
        RandomNumberGenerator.Fill(iv);
        return EncryptAtTime(plaintext, (ulong)now, iv, destination);
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

        var rented = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(ciphertext.Length));
        try
        {
            var status = Base64Url.DecodeFromUtf8(ciphertext, rented, out var consumed, out var decoded);
            if (status != OperationStatus.Done || consumed != ciphertext.Length)
            {
                throw Invalid(InvalidTokenReason.Malformed, "The token is not URL-safe base64.");
            }

            return DecryptDecoded(rented.AsSpan(0, decoded), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Encrypts with a given timestamp and IV (Python's <c>_encrypt_from_parts</c>); for reproducible tokens in tests.</summary>
    internal int EncryptAtTime(ReadOnlySpan<byte> plaintext, ulong timestamp, ReadOnlySpan<byte> iv, Span<byte> destination)
    {
        if (iv.Length != IvLength)
        {
            throw new ArgumentException($"A Fernet IV is {IvLength} bytes.", nameof(iv));
        }

        var tokenLength = GetCiphertextLength(plaintext.Length);
        if (destination.Length < tokenLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the token needs {tokenLength}.", nameof(destination));
        }

        var ciphertextLength = ((plaintext.Length / BlockSize) + 1) * BlockSize;
        var rawLength = Overhead + ciphertextLength;

        // Lay the raw token out at the start of the destination, then base64 it in place.
        var raw = destination[..rawLength];
        raw[0] = Version;
        BinaryPrimitives.WriteUInt64BigEndian(raw.Slice(TimestampOffset, 8), timestamp);
        iv.CopyTo(raw.Slice(IvOffset, IvLength));
        var aes = _aes[0];
        int encrypted;
        lock (aes)
        {
            encrypted = aes.EncryptCbc(plaintext, iv, raw.Slice(CiphertextOffset, ciphertextLength), PaddingMode.PKCS7);
        }

        if (encrypted != ciphertextLength)
        {
            throw new CryptographicException($"AES-CBC wrote {encrypted} bytes where {ciphertextLength} were expected.");
        }

        var signed = CiphertextOffset + ciphertextLength;
        HMACSHA256.HashData(_keys[0].SigningKey, raw[..signed], raw.Slice(signed, HmacLength));

        var status = Base64.EncodeToUtf8InPlace(destination, rawLength, out var written);
        if (status != OperationStatus.Done || written != tokenLength)
        {
            throw new CryptographicException("Base64 encoding of the token failed.");
        }

        var token = destination[..written];
        token.Replace((byte)'+', (byte)'-');
        token.Replace((byte)'/', (byte)'_');
        return written;
    }

    private int DecryptDecoded(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        // Python: `if not data or data[0] != 0x80 or len(data) < 9: raise InvalidToken`.
        if (data.Length < TimestampOffset + 8 || data[0] != Version)
        {
            throw Invalid(InvalidTokenReason.Malformed, data.IsEmpty || data[0] == Version
                ? "The token is too short to hold a timestamp."
                : $"The token's version byte is 0x{data[0]:x2}, not 0x80.");
        }

        var timestamp = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(TimestampOffset, 8));
        DateTimeOffset? stamped = timestamp <= (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds((long)timestamp)
            : null;

        if (TimeToLive is { } ttl)
        {
            var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
            var age = (Int128)now - timestamp;
            if (age * TimeSpan.TicksPerSecond > ttl.Ticks)
            {
                throw Invalid(
                    InvalidTokenReason.Expired,
                    $"The token was made {age} s ago (at Unix time {timestamp}); the time to live is {ttl.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s. A slow reader, or a clock behind the sender's, causes this.",
                    stamped);
            }

            if ((Int128)now + (long)MaxClockSkew.TotalSeconds < timestamp)
            {
                throw Invalid(
                    InvalidTokenReason.FromTheFuture,
                    $"The token is stamped {(Int128)timestamp - now} s in the future (Unix time {timestamp}); more than {MaxClockSkew.TotalSeconds} s of clock skew is refused. Check the clocks of both processes.",
                    stamped);
            }
        }

        if (data.Length < Overhead + BlockSize)
        {
            // Python would fail the signature (or the IV) on such a token: it cannot be one it made.
            throw Invalid(InvalidTokenReason.Malformed, $"The token holds {data.Length} bytes; a Fernet token holds at least {Overhead + BlockSize}.", stamped);
        }

        var signedLength = data.Length - HmacLength;
        var signed = data[..signedLength];
        var mac = data[signedLength..];
        var iv = data.Slice(IvOffset, IvLength);
        var ciphertext = data[CiphertextOffset..signedLength];
        Span<byte> expected = stackalloc byte[HmacLength];
        var signatureMatched = false;
        for (var i = 0; i < _keys.Length; i++)
        {
            HMACSHA256.HashData(_keys[i].SigningKey, signed, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, mac))
            {
                continue;
            }

            signatureMatched = true;
            if (ciphertext.Length % BlockSize != 0)
            {
                continue;
            }

            var aes = _aes[i];
            bool done;
            int written;
            try
            {
                lock (aes)
                {
                    done = aes.TryDecryptCbc(ciphertext, iv, destination, out written, PaddingMode.PKCS7);
                }
            }
            catch (CryptographicException)
            {
                // Bad padding: Python's unpadder raises, MultiFernet goes on to the next key.
                continue;
            }

            if (!done)
            {
                throw new ArgumentException(
                    $"The destination holds {destination.Length} bytes, too few for the plaintext; size it with GetMaxPlaintextLength.",
                    nameof(destination));
            }

            return written;
        }

        throw signatureMatched
            ? Invalid(InvalidTokenReason.InvalidCiphertext, "The token's signature matched a key but its ciphertext does not decrypt (bad length or padding).", stamped)
            : Invalid(
                InvalidTokenReason.SignatureMismatch,
                _keys.Length == 1
                    ? "The token's signature does not match the key. Is the sender using the same symmetric_encryption_keys?"
                    : $"The token's signature matches none of the {_keys.Length} keys. Is the sender using one of the same symmetric_encryption_keys?",
                stamped);
    }

    private InvalidTokenException Invalid(InvalidTokenReason reason, string detail, DateTimeOffset? timestamp = null) =>
        new($"Fernet token refused ({reason}): {detail} Key fingerprints tried: {string.Join(", ", _fingerprints)}.", reason, _fingerprints, timestamp);
}
