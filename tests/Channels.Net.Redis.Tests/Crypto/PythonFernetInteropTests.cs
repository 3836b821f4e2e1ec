using System.Text;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>
/// Our Fernet against the REAL cryptography and channels_redis (/usr/bin/python3), with two keys
/// mid-rotation: Python encrypts with key B first, we list key A first. Fails (never skips) when
/// Python or its packages are missing.
/// </summary>
public sealed class PythonFernetInteropTests : IClassFixture<PythonFernetExchange>
{
    internal const string SecretA = "django-insecure-secret-a";
    internal const string SecretB = "clé-secrète-b";
    internal static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60 + 10);

    private readonly PythonFernetExchange _exchange;

    public PythonFernetInteropTests(PythonFernetExchange exchange)
    {
        _exchange = exchange;
    }

    internal static FernetCipher Ours(params string[] secrets) => FernetCipher.FromSymmetricEncryptionKeys(secrets, Ttl);

    [Fact]
    public void Keys_DerivedAlike_AndFingerprintsMatchPythonsHashlib()
    {
        var keys = _exchange.Answer["keys"]!.AsArray();
        foreach (var (secret, python) in new[] { SecretA, SecretB }.Zip(keys))
        {
            var ours = FernetKey.FromSymmetricEncryptionKey(secret);
            Assert.Equal(python!["fernet_key"]!.GetValue<string>(), ours.Export());
            Assert.Equal(python["fingerprint"]!.GetValue<string>(), ours.Fingerprint);
        }
    }

    [Fact]
    public void PythonTokens_WeDecryptWithEitherKeyOrder()
    {
        var tokens = _exchange.Answer["python_tokens"]!.AsArray();
        Assert.Equal(_exchange.Plaintexts.Length, tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = Encoding.ASCII.GetBytes(tokens[i]!.GetValue<string>());
            Assert.Equal(_exchange.Plaintexts[i], Ours(SecretA, SecretB).Decrypt(token));
            Assert.Equal(_exchange.Plaintexts[i], Ours(SecretB).Decrypt(token));
            Assert.Equal(InvalidTokenReason.SignatureMismatch, Assert.Throws<InvalidTokenException>(() => Ours(SecretA).Decrypt(token)).Reason);
        }
    }

    [Fact]
    public void OurTokens_PythonDecryptsWithMultiFernetAndTtl()
    {
        var results = _exchange.Answer["dotnet_tokens"]!.AsArray();
        Assert.Equal(_exchange.Plaintexts.Length, results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            var expected = Convert.ToBase64String(_exchange.Plaintexts[i]);
            Assert.Equal(expected, results[i]!["both"]?.GetValue<string>());
            Assert.Equal(expected, results[i]!["first"]?.GetValue<string>());
            Assert.Null(results[i]!["second"]); // we encrypt with A: Python holding only B must refuse
        }
    }

    [Fact]
    public void FixedTimestampAndIv_GiveByteIdenticalTokens()
    {
        var fixedTokens = _exchange.Answer["fixed"]!.AsArray();
        var cipher = Ours(SecretA, SecretB);
        for (var i = 0; i < fixedTokens.Count; i++)
        {
            var (plaintext, timestamp, iv) = _exchange.Fixed[i];
            var token = new byte[cipher.GetCiphertextLength(plaintext.Length)];
            cipher.EncryptAtTime(plaintext, timestamp, iv, token);
            Assert.Equal(fixedTokens[i]!.GetValue<string>(), Encoding.ASCII.GetString(token));
        }
    }

    [Fact]
    public void ChannelsRedisMember_WeDeserialize()
    {
        var member = Convert.FromBase64String(_exchange.Answer["layer"]!["python_member"]!.GetValue<string>());

        var decoded = new ChannelsRedisSerializer(Ours(SecretA, SecretB)).Deserialize(member);

        MessageValueAssert.Equal(_exchange.LayerMessage, decoded.Message);
        Assert.Throws<InvalidTokenException>(() => new ChannelsRedisSerializer(Ours(SecretA)).Deserialize(member));
    }

    [Fact]
    public void OurMember_ChannelsRedisDeserializes()
    {
        var layer = _exchange.Answer["layer"]!;

        Assert.Equal("ok", layer["both"]!.GetValue<string>());
        Assert.Equal("ok", layer["first"]!.GetValue<string>());
        Assert.Equal("InvalidToken", layer["second"]!.GetValue<string>());
    }
}
