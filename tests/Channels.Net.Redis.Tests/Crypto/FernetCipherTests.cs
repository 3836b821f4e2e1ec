using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Channels.Net.Redis.Crypto;
using Microsoft.Extensions.Time.Testing;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>Fernet behaviour as cryptography's fernet.py has it: rotation, ttl and clock skew, tampering.</summary>
public sealed class FernetCipherTests
{
    private const long Now = 1_764_000_000;
    private static readonly FernetKey KeyA = FernetKey.FromSymmetricEncryptionKey("key-a");
    private static readonly FernetKey KeyB = FernetKey.FromSymmetricEncryptionKey("key-b");

    private static FernetCipher Cipher(FernetKey[] keys, TimeSpan? ttl, long now) =>
        new(keys, ttl, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(now)));

    private static byte[] TokenAt(long timestamp, FernetKey key, byte[]? plaintext = null) =>
        Cipher([key], null, timestamp).Encrypt(plaintext ?? "payload"u8.ToArray());

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1000)]
    public void RoundTrip_AndTheTokenIsExactlyAsLongAsPredicted(int length)
    {
        var cipher = Cipher([KeyA], TimeSpan.FromSeconds(70), Now);
        var plaintext = RandomNumberGenerator.GetBytes(length);

        var token = cipher.Encrypt(plaintext);

        Assert.Equal(cipher.GetCiphertextLength(length), token.Length);
        Assert.True(cipher.GetMaxPlaintextLength(token.Length) >= length);
        Assert.Equal(plaintext, cipher.Decrypt(token));
    }

    [Fact]
    public void Token_IsUrlSafeBase64OfVersionTimestampIvCiphertextHmac()
    {
        var token = TokenAt(Now, KeyA, new byte[20]);

        var text = Encoding.ASCII.GetString(token);
        Assert.DoesNotContain('+', text);
        Assert.DoesNotContain('/', text);
        var raw = Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/'));
        Assert.Equal(0x80, raw[0]);
        Assert.Equal((ulong)Now, BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(1, 8)));
        Assert.Equal(1 + 8 + 16 + 32 + 32, raw.Length); // 20 bytes pad to 32
        var mac = HMACSHA256.HashData(SigningKey(KeyA), raw.AsSpan(0, raw.Length - 32));
        Assert.Equal(mac, raw[^32..]);
    }

    [Fact]
    public void Rotation_EncryptsWithTheFirstKey_DecryptsWithAny()
    {
        var rotating = Cipher([KeyB, KeyA], null, Now);
        var oldOnly = Cipher([KeyA], null, Now);
        var newOnly = Cipher([KeyB], null, Now);

        var fromOld = oldOnly.Encrypt("old"u8);
        var fromRotating = rotating.Encrypt("new"u8);

        Assert.Equal("old"u8.ToArray(), rotating.Decrypt(fromOld));
        Assert.Equal("new"u8.ToArray(), newOnly.Decrypt(fromRotating));
        var error = Assert.Throws<InvalidTokenException>(() => oldOnly.Decrypt(fromRotating));
        Assert.Equal(InvalidTokenReason.SignatureMismatch, error.Reason);
    }

    [Fact]
    public void Failure_CarriesTheFingerprintsOfEveryKeyTried_AndNeverAKey()
    {
        var cipher = Cipher([KeyA, KeyB], null, Now);

        var error = Assert.Throws<InvalidTokenException>(() => cipher.Decrypt(TokenAt(Now, FernetKey.Generate())));

        Assert.Equal([KeyA.Fingerprint, KeyB.Fingerprint], error.KeyFingerprints);
        Assert.Contains(KeyA.Fingerprint, error.Message, StringComparison.Ordinal);
        Assert.Contains(KeyB.Fingerprint, error.Message, StringComparison.Ordinal);
        foreach (var key in new[] { KeyA, KeyB })
        {
            Assert.DoesNotContain(key.Export().TrimEnd('=')[..12], error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(SigningKey(key))[..12], error.Message, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Now), error.TokenTimestamp);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(70, true)] // timestamp + ttl == now: still valid
    [InlineData(71, false)] // timestamp + ttl < now
    [InlineData(-60, true)] // 60 s in the future: inside the clock skew
    [InlineData(-61, false)] // now + 60 < timestamp
    public void Ttl_AndClockSkew_AsPython(long age, bool valid)
    {
        var token = TokenAt(Now - age, KeyA);
        var cipher = Cipher([KeyA], TimeSpan.FromSeconds(70), Now);

        if (valid)
        {
            Assert.Equal("payload"u8.ToArray(), cipher.Decrypt(token));
        }
        else
        {
            var error = Assert.Throws<InvalidTokenException>(() => cipher.Decrypt(token));
            Assert.Equal(age > 0 ? InvalidTokenReason.Expired : InvalidTokenReason.FromTheFuture, error.Reason);
        }
    }

    [Theory]
    [InlineData(-100_000_000)]
    [InlineData(100_000_000)]
    public void WithoutTtl_NoTimeIsChecked_FutureIncluded(long age)
    {
        var token = TokenAt(Now - age, KeyA);

        Assert.Equal("payload"u8.ToArray(), Cipher([KeyA], null, Now).Decrypt(token));
    }

    [Theory]
    [InlineData(70, true)]
    [InlineData(71, false)]
    public void FractionalTtl_ComparesLikePythonsFloatTtl(long age, bool valid)
    {
        var cipher = Cipher([KeyA], TimeSpan.FromSeconds(70.5), Now);
        var token = TokenAt(Now - age, KeyA);

        if (valid)
        {
            cipher.Decrypt(token);
        }
        else
        {
            Assert.Throws<InvalidTokenException>(() => cipher.Decrypt(token));
        }
    }

    [Fact]
    public void TimeIsCheckedBeforeTheSignature_AsInPython()
    {
        var stranger = TokenAt(Now - 1000, FernetKey.Generate());

        var error = Assert.Throws<InvalidTokenException>(() => Cipher([KeyA], TimeSpan.FromSeconds(70), Now).Decrypt(stranger));

        Assert.Equal(InvalidTokenReason.Expired, error.Reason);
    }

    [Fact]
    public void ClockFromTheTimeProvider_IsUsedToStampAndToCheck()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Now));
        var cipher = new FernetCipher([KeyA], TimeSpan.FromSeconds(70), clock);
        var token = cipher.Encrypt("x"u8);

        clock.Advance(TimeSpan.FromSeconds(70));
        cipher.Decrypt(token);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(InvalidTokenReason.Expired, Assert.Throws<InvalidTokenException>(() => cipher.Decrypt(token)).Reason);
    }

    [Fact]
    public void AnyChangedByte_IsRefused()
    {
        var cipher = Cipher([KeyA], null, Now);
        var raw = Raw(TokenAt(Now, KeyA));

        for (var i = 0; i < raw.Length; i++)
        {
            var changed = (byte[])raw.Clone();
            changed[i] ^= 0x01;
            var error = Assert.Throws<InvalidTokenException>(() => cipher.Decrypt(Token(changed)));
            Assert.Equal(i == 0 ? InvalidTokenReason.Malformed : InvalidTokenReason.SignatureMismatch, error.Reason);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("gAAAAA")]
    [InlineData("not*base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Malformed_IsRefused(string token)
    {
        var error = Assert.Throws<InvalidTokenException>(() => Cipher([KeyA], TimeSpan.FromSeconds(70), Now).Decrypt(Encoding.ASCII.GetBytes(token)));

        Assert.Equal(InvalidTokenReason.Malformed, error.Reason);
    }

    [Fact]
    public void TokenWithoutPadding_IsAccepted()
    {
        var token = Encoding.ASCII.GetString(TokenAt(Now, KeyA, new byte[1]));
        Assert.EndsWith("=", token, StringComparison.Ordinal);

        Cipher([KeyA], null, Now).Decrypt(Encoding.ASCII.GetBytes(token.TrimEnd('=')));
    }

    [Fact]
    public void SignedButBadPadding_IsInvalidCiphertext()
    {
        // A block that decrypts to ...00: not PKCS7. Only a key holder can sign such a token.
        using var aes = Aes.Create();
        aes.Key = EncryptionKey(KeyA);
        var iv = new byte[16];
        var block = aes.EncryptCbc(new byte[16], iv, PaddingMode.None);

        var error = Assert.Throws<InvalidTokenException>(() => Cipher([KeyA], null, Now).Decrypt(Token(Signed(KeyA, iv, block))));

        Assert.Equal(InvalidTokenReason.InvalidCiphertext, error.Reason);
    }

    [Fact]
    public void SignedButCiphertextNotAWholeBlock_IsInvalidCiphertext()
    {
        var error = Assert.Throws<InvalidTokenException>(() => Cipher([KeyA], null, Now).Decrypt(Token(Signed(KeyA, new byte[16], new byte[17]))));

        Assert.Equal(InvalidTokenReason.InvalidCiphertext, error.Reason);
    }

    [Fact]
    public void SignedButTooShort_IsMalformed()
    {
        var error = Assert.Throws<InvalidTokenException>(() => Cipher([KeyA], null, Now).Decrypt(Token(Signed(KeyA, new byte[16], []))));

        Assert.Equal(InvalidTokenReason.Malformed, error.Reason);
    }

    [Fact]
    public void DestinationTooSmall_IsAnArgumentError()
    {
        var cipher = Cipher([KeyA], null, Now);
        var token = cipher.Encrypt(new byte[40]);

        Assert.Throws<ArgumentException>(() => cipher.Encrypt(new byte[40], new byte[cipher.GetCiphertextLength(40) - 1]));
        Assert.Throws<ArgumentException>(() => cipher.Decrypt(token, new byte[39]));
        Assert.Equal(40, cipher.Decrypt(token, new byte[cipher.GetMaxPlaintextLength(token.Length)]));
    }

    [Fact]
    public void NoKeys_IsRefused() => Assert.Throws<ArgumentException>(() => new FernetCipher([]));

    [Fact]
    public async Task ManyThreads_ShareOneCipher()
    {
        var cipher = new FernetCipher([KeyA, KeyB], TimeSpan.FromSeconds(70));
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            for (var i = 0; i < 300; i++)
            {
                var plaintext = new byte[random.Next(0, 2000)];
                random.NextBytes(plaintext);
                Assert.Equal(plaintext, cipher.Decrypt(cipher.Encrypt(plaintext)));
            }
        }));

        await Task.WhenAll(tasks);
    }

    [Fact]
    public void RandomAndTruncatedTokens_ThrowOnlyInvalidToken()
    {
        var random = new Random(7);
        var cipher = Cipher([KeyA], TimeSpan.FromSeconds(70), Now);
        var valid = TokenAt(Now, KeyA);
        for (var i = 0; i < 3000; i++)
        {
            var token = (i % 3) switch
            {
                0 => valid[..random.Next(0, valid.Length)],
                1 => Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(random.Next(0, 120))).Replace('+', '-').Replace('/', '_')),
                _ => Token(new byte[] { 0x80 }.Concat(RandomNumberGenerator.GetBytes(random.Next(0, 120))).ToArray()),
            };

            try
            {
                cipher.Decrypt(token);
            }
            catch (InvalidTokenException)
            {
            }
        }
    }

    private static byte[] SigningKey(FernetKey key) => Convert.FromBase64String(key.Export().Replace('-', '+').Replace('_', '/'))[..16];

    private static byte[] EncryptionKey(FernetKey key) => Convert.FromBase64String(key.Export().Replace('-', '+').Replace('_', '/'))[16..];

    private static byte[] Raw(byte[] token) => Convert.FromBase64String(Encoding.ASCII.GetString(token).Replace('-', '+').Replace('_', '/'));

    private static byte[] Token(byte[] raw) => Encoding.ASCII.GetBytes(Convert.ToBase64String(raw).Replace('+', '-').Replace('/', '_'));

    private static byte[] Signed(FernetKey key, byte[] iv, byte[] ciphertext)
    {
        var body = new byte[25 + ciphertext.Length];
        body[0] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(body.AsSpan(1), (ulong)Now);
        iv.CopyTo(body, 9);
        ciphertext.CopyTo(body, 25);
        return body.Concat(HMACSHA256.HashData(SigningKey(key), body)).ToArray();
    }
}
