using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Channels.Net.Redis.Crypto;
using Microsoft.Extensions.Time.Testing;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>The opt-in AEAD ciphers: round trips, the token layout, rotation, tampering, time, and garbage.</summary>
public sealed class AeadCipherTests
{
    private const long Now = 1_764_000_000;
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(70);

    public static TheoryData<MessageCipher> Ciphers => new() { MessageCipher.XChaCha20Poly1305, MessageCipher.Aes256Gcm };

    private static AeadCipher Cipher(MessageCipher cipher, string[] secrets, TimeSpan? ttl = null, long now = Now) =>
        AeadCipher.FromSymmetricEncryptionKeys(cipher, secrets, ttl, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(now)));

    private static int NonceLength(MessageCipher cipher) => cipher == MessageCipher.XChaCha20Poly1305 ? 24 : 12;

    private static byte[] TokenAt(MessageCipher cipher, string secret, long timestamp, byte[]? plaintext = null)
    {
        using var maker = Cipher(cipher, [secret]);
        plaintext ??= "payload"u8.ToArray();
        var token = new byte[maker.GetCiphertextLength(plaintext.Length)];
        maker.EncryptAtTime(plaintext, (ulong)timestamp, token);
        return token;
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void RoundTrip_AndLengthsAreExact(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a"], Ttl);
        foreach (var length in new[] { 0, 1, 15, 16, 100, 10_240, 70_000 })
        {
            var plaintext = RandomNumberGenerator.GetBytes(length);

            var token = aead.Encrypt(plaintext);

            Assert.Equal(aead.GetCiphertextLength(length), token.Length);
            Assert.Equal(length + 1 + 4 + 8 + NonceLength(cipher) + 16, token.Length);
            Assert.Equal(length, aead.GetMaxPlaintextLength(token.Length));
            Assert.Equal(plaintext, aead.Decrypt(token));
        }
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void Token_IsVersionKeyIdTimestampNonceCiphertextTag(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a"], Ttl);

        var token = aead.Encrypt("hello"u8);

        Assert.Equal(cipher == MessageCipher.XChaCha20Poly1305 ? 0xC1 : 0xC2, token[0]);
        Assert.Equal(aead.KeyFingerprints[0], Convert.ToHexStringLower(token.AsSpan(1, 4)));
        Assert.Equal((ulong)Now, BinaryPrimitives.ReadUInt64BigEndian(token.AsSpan(5, 8)));
        Assert.Equal(13 + NonceLength(cipher) + 5 + 16, token.Length);
        Assert.NotEqual("hello"u8.ToArray(), token.AsSpan(13 + NonceLength(cipher), 5).ToArray());
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void Keys_AreHkdfSha256OfTheSecret_DomainSeparatedByAlgorithm(MessageCipher cipher)
    {
        const string secret = "a shared secret — clé";
        var info = cipher == MessageCipher.XChaCha20Poly1305 ? "channels.net/xchacha20poly1305" : "channels.net/aes256gcm";
        var expected = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: Encoding.ASCII.GetBytes(info));
        using var aead = Cipher(cipher, [secret]);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected).AsSpan(0, 4)), aead.KeyFingerprints[0]);

        // The same secret gives another key (and fingerprint) to Fernet and to the other AEAD cipher.
        var other = cipher == MessageCipher.XChaCha20Poly1305 ? MessageCipher.Aes256Gcm : MessageCipher.XChaCha20Poly1305;
        using var otherAead = Cipher(other, [secret]);
        Assert.NotEqual(aead.KeyFingerprints[0], otherAead.KeyFingerprints[0]);
        Assert.NotEqual(aead.KeyFingerprints[0], FernetKey.FromSymmetricEncryptionKey(secret).Fingerprint);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void Rotation_TheFirstKeyEncrypts_AnyKeyDecrypts(MessageCipher cipher)
    {
        using var oldOnly = Cipher(cipher, ["old"], Ttl);
        using var rotating = Cipher(cipher, ["new", "old"], Ttl);
        using var newOnly = Cipher(cipher, ["new"], Ttl);

        var fromOld = oldOnly.Encrypt("from old"u8);
        var fromRotating = rotating.Encrypt("from rotating"u8);

        Assert.Equal("from old"u8.ToArray(), rotating.Decrypt(fromOld));
        Assert.Equal("from rotating"u8.ToArray(), newOnly.Decrypt(fromRotating));
        Assert.Equal(newOnly.KeyFingerprints[0], Convert.ToHexStringLower(fromRotating.AsSpan(1, 4)));
        var error = Assert.Throws<InvalidTokenException>(() => oldOnly.Decrypt(fromRotating));
        Assert.Equal(InvalidTokenReason.SignatureMismatch, error.Reason);
        Assert.Contains($"made with key {newOnly.KeyFingerprints[0]}, which this process does not have", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void WrongKey_NamesFingerprintsOnly_NeverAKey(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a", "key-b"], Ttl);
        var token = TokenAt(cipher, "a key nobody here has", Now);

        var error = Assert.Throws<InvalidTokenException>(() => aead.Decrypt(token));

        Assert.Equal(InvalidTokenReason.SignatureMismatch, error.Reason);
        Assert.Equal(aead.KeyFingerprints, error.KeyFingerprints);
        foreach (var fingerprint in aead.KeyFingerprints)
        {
            Assert.Contains(fingerprint, error.Message, StringComparison.Ordinal);
        }

        foreach (var secret in new[] { "key-a", "key-b" })
        {
            Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
            var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, [], Encoding.ASCII.GetBytes(cipher == MessageCipher.XChaCha20Poly1305 ? "channels.net/xchacha20poly1305" : "channels.net/aes256gcm"));
            Assert.DoesNotContain(Convert.ToHexString(derived)[..12], error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(derived)[..12], error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void AnyChangedByte_IsRefused(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a"], Ttl);
        var token = aead.Encrypt(RandomNumberGenerator.GetBytes(40));

        for (var i = 0; i < token.Length; i++)
        {
            var changed = (byte[])token.Clone();
            changed[i] ^= 0x01;
            var error = Assert.Throws<InvalidTokenException>(() => aead.Decrypt(changed));
            Assert.Equal(i == 0 ? InvalidTokenReason.Malformed : InvalidTokenReason.SignatureMismatch, error.Reason);
        }
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void ChangedTimestamp_IsRefusedAsForged_NotAsExpired(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a"], Ttl);
        var token = aead.Encrypt("x"u8);
        BinaryPrimitives.WriteUInt64BigEndian(token.AsSpan(5, 8), Now - 1000);

        Assert.Equal(InvalidTokenReason.SignatureMismatch, Assert.Throws<InvalidTokenException>(() => aead.Decrypt(token)).Reason);
    }

    [Theory]
    [InlineData(MessageCipher.XChaCha20Poly1305, 0, true)]
    [InlineData(MessageCipher.XChaCha20Poly1305, 70, true)] // timestamp + ttl == now: still valid
    [InlineData(MessageCipher.XChaCha20Poly1305, 71, false)]
    [InlineData(MessageCipher.XChaCha20Poly1305, -60, true)] // inside the clock skew
    [InlineData(MessageCipher.XChaCha20Poly1305, -61, false)]
    [InlineData(MessageCipher.Aes256Gcm, 70, true)]
    [InlineData(MessageCipher.Aes256Gcm, 71, false)]
    [InlineData(MessageCipher.Aes256Gcm, -61, false)]
    public void Ttl_AndClockSkew_AsFernet(MessageCipher cipher, long age, bool valid)
    {
        var token = TokenAt(cipher, "key-a", Now - age);
        using var aead = Cipher(cipher, ["key-a"], Ttl);

        if (valid)
        {
            Assert.Equal("payload"u8.ToArray(), aead.Decrypt(token));
            return;
        }

        var destination = new byte[aead.GetMaxPlaintextLength(token.Length)];
        var error = Assert.Throws<InvalidTokenException>(() => aead.Decrypt(token, destination));
        Assert.Equal(age > 0 ? InvalidTokenReason.Expired : InvalidTokenReason.FromTheFuture, error.Reason);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Now - age), error.TokenTimestamp);
        Assert.All(destination, b => Assert.Equal(0, b)); // the authenticated plaintext is not left behind
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void TheClockOfTheTimeProvider_StampsAndChecks(MessageCipher cipher)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Now));
        using var aead = AeadCipher.FromSymmetricEncryptionKeys(cipher, ["key-a"], Ttl, clock);
        var token = aead.Encrypt("x"u8);

        clock.Advance(TimeSpan.FromSeconds(70));
        aead.Decrypt(token);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(InvalidTokenReason.Expired, Assert.Throws<InvalidTokenException>(() => aead.Decrypt(token)).Reason);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void WithoutTtl_NoTimeIsChecked(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a"], ttl: null);

        Assert.Equal("payload"u8.ToArray(), aead.Decrypt(TokenAt(cipher, "key-a", Now - 100_000_000)));
        Assert.Equal("payload"u8.ToArray(), aead.Decrypt(TokenAt(cipher, "key-a", Now + 100_000_000)));
    }

    [Fact]
    public void AnotherCiphersToken_IsMalformed_AndTheErrorSaysWhy()
    {
        using var xchacha = Cipher(MessageCipher.XChaCha20Poly1305, ["key-a"], Ttl);
        using var gcm = Cipher(MessageCipher.Aes256Gcm, ["key-a"], Ttl);
        var fernet = FernetCipher.FromSymmetricEncryptionKeys(["key-a"], Ttl);

        var fromGcm = Assert.Throws<InvalidTokenException>(() => xchacha.Decrypt(gcm.Encrypt("x"u8)));
        var fromXChaCha = Assert.Throws<InvalidTokenException>(() => gcm.Decrypt(xchacha.Encrypt("x"u8)));
        var fromFernet = Assert.Throws<InvalidTokenException>(() => xchacha.Decrypt(fernet.Encrypt("x"u8)));
        var fromPlain = Assert.Throws<InvalidTokenException>(() => gcm.Decrypt([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65]));

        Assert.All(new[] { fromGcm, fromXChaCha, fromFernet, fromPlain }, e => Assert.Equal(InvalidTokenReason.Malformed, e.Reason));
        Assert.Contains("The token is AES-256-GCM, but this process uses XChaCha20-Poly1305", fromGcm.Message, StringComparison.Ordinal);
        Assert.Contains("The token is XChaCha20-Poly1305, but this process uses AES-256-GCM", fromXChaCha.Message, StringComparison.Ordinal);
        Assert.Contains("looks like Fernet", fromFernet.Message, StringComparison.Ordinal);
        Assert.Contains("version byte is 0x81", fromPlain.Message, StringComparison.Ordinal);

        // And the other way: Fernet refuses an AEAD token as not base64.
        Assert.Equal(InvalidTokenReason.Malformed, Assert.Throws<InvalidTokenException>(() => fernet.Decrypt(xchacha.Encrypt("x"u8))).Reason);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void RandomTruncatedAndMutatedTokens_ThrowOnlyInvalidToken(MessageCipher cipher)
    {
        var random = new Random(11);
        using var aead = Cipher(cipher, ["key-a", "key-b"], Ttl);
        var valid = aead.Encrypt(RandomNumberGenerator.GetBytes(64));
        var version = valid[0];
        var refused = 0;
        const int Inputs = 4000;
        for (var i = 0; i < Inputs; i++)
        {
            byte[] token;
            switch (i % 4)
            {
                case 0:
                    token = valid[..random.Next(0, valid.Length)];
                    break;
                case 1:
                    token = new byte[random.Next(0, 200)];
                    random.NextBytes(token);
                    break;
                case 2:
                    // The right version byte and a known key id, then garbage: it must reach the AEAD and fail there.
                    token = new byte[random.Next(1, 200)];
                    random.NextBytes(token);
                    token[0] = version;
                    valid.AsSpan(1, Math.Min(4, token.Length - 1)).CopyTo(token.AsSpan(1));
                    break;
                default:
                    token = (byte[])valid.Clone();
                    for (var flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        token[random.Next(token.Length)] ^= (byte)random.Next(1, 256);
                    }

                    break;
            }

            try
            {
                aead.Decrypt(token, new byte[Math.Max(aead.GetMaxPlaintextLength(token.Length), 0)]);
            }
            catch (InvalidTokenException)
            {
                refused++;
            }
        }

        Assert.Equal(Inputs, refused); // none is a valid token
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void DestinationTooSmall_IsAnArgumentError(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a"]);
        var token = aead.Encrypt(new byte[40]);

        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[40], new byte[aead.GetCiphertextLength(40) - 1]));
        Assert.Throws<ArgumentException>(() => aead.Decrypt(token, new byte[39]));
        Assert.Equal(40, aead.Decrypt(token, new byte[100]));
        Assert.Equal(aead.GetCiphertextLength(40), aead.Encrypt(new byte[40], new byte[200]));
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public async Task ManyThreads_ShareOneCipher(MessageCipher cipher)
    {
        using var aead = Cipher(cipher, ["key-a", "key-b"], Ttl);
        var tokens = new System.Collections.Concurrent.ConcurrentBag<string>();
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            for (var i = 0; i < 300; i++)
            {
                var plaintext = new byte[random.Next(0, 2000)];
                random.NextBytes(plaintext);
                var token = aead.Encrypt(plaintext);
                tokens.Add(Convert.ToHexString(token.AsSpan(13, NonceLength(cipher))));
                Assert.Equal(plaintext, aead.Decrypt(token));
            }
        }));

        await Task.WhenAll(tasks);

        Assert.Equal(2400, tokens.Distinct().Count()); // no nonce twice
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => AeadCipher.FromSymmetricEncryptionKeys(MessageCipher.XChaCha20Poly1305, []));
        Assert.Throws<ArgumentException>(() => AeadCipher.FromSymmetricEncryptionKeys(MessageCipher.XChaCha20Poly1305, ["ok", ""]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AeadCipher.FromSymmetricEncryptionKeys(MessageCipher.Fernet, ["ok"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AeadCipher.FromSymmetricEncryptionKeys((MessageCipher)42, ["ok"]));
    }

    [Fact]
    public void Aes256GcmWithoutHardwareSupport_FailsWithAClearError()
    {
        // This machine has AES-NI (libsodium reports it), so the check is driven with "unsupported" directly.
        Assert.True(AeadCipher.IsSupported(MessageCipher.Aes256Gcm));
        Assert.True(AeadCipher.IsSupported(MessageCipher.XChaCha20Poly1305));

        var error = Assert.Throws<ArgumentException>(() => AeadCipher.RequireSupported(MessageCipher.Aes256Gcm, aes256GcmSupported: false));

        Assert.Equal("Cipher", error.ParamName);
        Assert.Contains("AES-256-GCM is not available on this machine", error.Message, StringComparison.Ordinal);
        Assert.Contains("Use Cipher XChaCha20Poly1305 instead", error.Message, StringComparison.Ordinal);
        AeadCipher.RequireSupported(MessageCipher.XChaCha20Poly1305, aes256GcmSupported: false);
        AeadCipher.RequireSupported(MessageCipher.Fernet, aes256GcmSupported: false);
    }

    [Fact]
    public void AfterDispose_TheKeysAreGone()
    {
        var aead = Cipher(MessageCipher.XChaCha20Poly1305, ["key-a"]);
        var token = aead.Encrypt("x"u8);

        aead.Dispose();

        Assert.Throws<ObjectDisposedException>(() => aead.Encrypt("x"u8));
        Assert.Throws<ObjectDisposedException>(() => aead.Decrypt(token));
    }
}
