using System.Text.Json.Nodes;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>
/// The AEAD token format read and written by an independent implementation (Python/aead_reference.py:
/// python3-cryptography's HKDF and AES-GCM, python3-nacl's XChaCha20-Poly1305) under /usr/bin/python3,
/// so the documented format, not only our code, is what is tested. channels_redis itself cannot read
/// these tokens; this is a specification check. Fails (never skips) when Python or a package is missing.
/// </summary>
public sealed class PythonAeadReferenceTests : IClassFixture<PythonAeadReferenceTests.Exchange>
{
    internal const string SecretNew = "new secret — clé 🔑";
    internal const string SecretOld = "old secret";
    internal const ulong PythonTimestamp = 1_764_000_000;

    private static readonly MessageCipher[] AeadCiphers = [MessageCipher.XChaCha20Poly1305, MessageCipher.Aes256Gcm];

    private readonly Exchange _exchange;

    public PythonAeadReferenceTests(Exchange exchange)
    {
        _exchange = exchange;
    }

    internal static string Name(MessageCipher cipher) => cipher == MessageCipher.XChaCha20Poly1305 ? "xchacha20poly1305" : "aes256gcm";

    [Fact]
    public void Fingerprints_AreSha256OfTheHkdfKey_AsPythonComputesThem()
    {
        foreach (var cipher in AeadCiphers)
        {
            using var ours = AeadCipher.FromSymmetricEncryptionKeys(cipher, [SecretNew, SecretOld]);
            var python = _exchange.Answer["fingerprints"]![Name(cipher)]!.AsArray().Select(n => n!.GetValue<string>());
            Assert.Equal(python, ours.KeyFingerprints);
        }
    }

    [Fact]
    public void OurTokens_PythonDecrypts_WithTheKeyTheirIdNames()
    {
        var results = _exchange.Answer["dotnet_tokens"]!.AsArray();
        Assert.Equal(_exchange.Ours.Count, results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            var (_, plaintext, keyIndex) = _exchange.Ours[i];
            var result = results[i]!;
            Assert.Null(result["error"]);
            Assert.Equal(Convert.ToBase64String(plaintext), result["plaintext"]!.GetValue<string>());
            Assert.Equal(keyIndex, result["key_index"]!.GetValue<int>());
            Assert.Equal(Exchange.OurTimestamp, result["timestamp"]!.GetValue<ulong>());
        }
    }

    [Fact]
    public void PythonTokens_WeDecrypt_AndOnlyWithTheRightKey()
    {
        var tokens = _exchange.Answer["python_tokens"]!.AsArray();
        Assert.Equal(_exchange.Made.Count, tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var (cipher, plaintext) = _exchange.Made[i];
            var token = Convert.FromBase64String(tokens[i]!.GetValue<string>());
            using var both = AeadCipher.FromSymmetricEncryptionKeys(cipher, [SecretOld, SecretNew]);
            using var oldOnly = AeadCipher.FromSymmetricEncryptionKeys(cipher, [SecretOld]);

            Assert.Equal(plaintext, both.Decrypt(token));
            Assert.Equal(InvalidTokenReason.SignatureMismatch, Assert.Throws<InvalidTokenException>(() => oldOnly.Decrypt(token)).Reason);
        }
    }

    /// <summary>Makes our tokens, runs the reference once for the class, keeps its answer.</summary>
    public sealed class Exchange
    {
        internal const ulong OurTimestamp = 1_700_000_123;

        public Exchange()
        {
            var random = new Random(5);
            var sizes = new[] { 0, 1, 100, 10_240 };
            var dotnetTokens = new JsonArray();
            var make = new JsonArray();
            foreach (var cipher in AeadCiphers)
            {
                // Rotation: encrypted with the first key of each list, so Python must pick the key by id.
                foreach (var (secrets, keyIndex) in new[] { (new[] { SecretNew, SecretOld }, 0), (new[] { SecretOld }, 1) })
                {
                    using var ours = AeadCipher.FromSymmetricEncryptionKeys(cipher, secrets);
                    foreach (var size in sizes)
                    {
                        var plaintext = RandomValues.RandomBytes(random, size);
                        var token = new byte[ours.GetCiphertextLength(size)];
                        ours.EncryptAtTime(plaintext, OurTimestamp, token);
                        Ours.Add((cipher, plaintext, keyIndex));
                        dotnetTokens.Add(new JsonObject { ["cipher"] = Name(cipher), ["token"] = Convert.ToBase64String(token) });
                    }
                }

                foreach (var size in sizes)
                {
                    var plaintext = RandomValues.RandomBytes(random, size);
                    Made.Add((cipher, plaintext));
                    make.Add(new JsonObject { ["cipher"] = Name(cipher), ["plaintext"] = Convert.ToBase64String(plaintext), ["timestamp"] = PythonTimestamp });
                }
            }

            Answer = PythonPeer.Run(
                "aead",
                new JsonObject { ["secrets"] = new JsonArray(SecretNew, SecretOld), ["dotnet_tokens"] = dotnetTokens, ["make"] = make },
                "aead_reference.py");
        }

        public List<(MessageCipher Cipher, byte[] Plaintext, int KeyIndex)> Ours { get; } = [];

        public List<(MessageCipher Cipher, byte[] Plaintext)> Made { get; } = [];

        public JsonObject Answer { get; }
    }
}
